//! debconf: preseed a question (debconf-set-selections), compared with debconf-show first.
use crate::host::debconf::{parse_show, show_script};
use crate::spec::{b, raw, s, ArgSpec};
use crate::util::{sh, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::Result;
use serde_json::Value;

pub struct Debconf;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").aliases(&["pkg"]).required(),
    s("question").aliases(&["selection", "setting"]),
    s("vtype").choices(&["boolean", "error", "multiselect", "note", "password", "seen", "select", "string", "text", "title"]),
    raw("value").aliases(&["answer"]),
    b("unseen"),
])
.together(&[&["question", "vtype", "value"]]);

#[async_trait::async_trait]
impl Module for Debconf {
    fn name(&self) -> &'static str {
        "debconf"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        let current = parse_show(&text(&sh(ctx, &show_script(&name), None).await?.stdout));
        let mut r = ModuleResult::default();
        r.data.insert("current".into(), Value::Object(current.clone()));
        // without a question: the current answers only (required_together makes vtype/value come with it)
        let (Some(question), Some(vtype)) = (a.str("question")?, a.str("vtype")?) else { return Ok(Plan::done(r)) };
        let value = match a.raw("value") {
            Some(Value::Bool(b)) => b.to_string(),
            _ => a.req("value")?,
        };
        let value = match (vtype.as_str(), value.as_str()) {
            ("boolean", "True" | "yes") => "true".to_string(),
            ("boolean", "False" | "no") => "false".to_string(),
            _ => value,
        };
        let have = current.get(&question).and_then(|v| v.as_str()).map(str::to_string);
        // passwords are never shown by debconf-show, so they are always set (as Ansible does)
        if vtype != "password" && have.as_deref() == Some(value.as_str()) {
            return Ok(Plan::done(r));
        }
        let shown = if vtype == "password" { "(password)\n".to_string() } else { format!("{value}\n") };
        r.diff.push(state_diff(format!("debconf {name} {question}"), format!("{}\n", have.unwrap_or_default()), shown));
        let cmd = format!("debconf-set-selections{}", if a.bool("unseen")? { " -u" } else { "" });
        let line = format!("{name} {question} {vtype} {value}\n");
        Ok(Plan::change(r, vec![Step::run_stdin("debconf-set-selections failed", cmd, line.into_bytes())]))
    }
}
