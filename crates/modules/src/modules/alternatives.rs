//! alternatives: register and select an update-alternatives entry.
use crate::host::alternatives::{parse_query, query_script};
use crate::spec::{i, raw, s, ArgSpec, Def, Phase, SpecError};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{anyhow, Result};
use serde_json::{Map, Value};

pub struct Alternatives;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").required(),
    s("path"),
    s("link"),
    i("priority").default(Def::Int(50)),
    s("state").choices(&["selected", "present", "auto", "absent"]).default(Def::Str("selected")),
    s("family"),
    raw("subcommands").aliases(&["slaves"]),
])
.required_if(&[("state", "present", &["path"]), ("state", "selected", &["path"]), ("state", "absent", &["path"])]);

/// Ansible's arguments update-alternatives cannot do here, refused rather than ignored.
pub(crate) fn rules(args: &Map<String, Value>, _phase: Phase) -> Result<(), SpecError> {
    if SPEC.value_of(args, "subcommands").is_some() {
        return Err(SpecError { key: Some("subcommands".into()), msg: "alternatives: subcommands (slaves) are not supported".into() });
    }
    if SPEC.value_of(args, "family").is_some() {
        return Err(SpecError { key: Some("family".into()), msg: "alternatives: family is not supported (Debian's update-alternatives has no families)".into() });
    }
    Ok(())
}

#[async_trait::async_trait]
impl Module for Alternatives {
    fn name(&self) -> &'static str {
        "alternatives"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        rules(a.values(), Phase::Run).map_err(|e| anyhow!(e.msg))?;
        let name = a.req("name")?;
        let path = a.str("path")?;
        let state = a.choice("state")?;
        let priority = a.int("priority")?.unwrap_or(50);
        // the default state (selected) needs a path too; required_if sees only a given state
        if state != "auto" && path.is_none() {
            return Ok(Plan::failed(format!("alternatives: path is required with state={state}")));
        }
        let cur = parse_query(&text(&sh(ctx, &query_script(&name), None).await?.stdout));
        let link = a.str("link")?.or_else(|| cur.link.clone());
        let (n, p) = (q(&name), path.as_deref().map(q).unwrap_or_default());
        let is_reg = path.as_ref().is_some_and(|x| cur.registered.contains(x));
        let mut cmds = vec![];
        if state != "absent" && path.is_some() && !is_reg {
            let Some(l) = &link else { return Ok(Plan::failed(format!("alternatives: link is required to register {name}"))) };
            cmds.push(format!("update-alternatives --install {} {n} {p} {priority}", q(l)));
        }
        match state.as_str() {
            "selected" if cur.value != path => cmds.push(format!("update-alternatives --set {n} {p}")),
            "auto" if cur.status.as_deref() != Some("auto") => cmds.push(format!("update-alternatives --auto {n}")),
            "absent" if is_reg => cmds.push(format!("update-alternatives --remove {n} {p}")),
            _ => {}
        }
        if cmds.is_empty() {
            return Ok(Plan::done(ModuleResult::default()));
        }
        let mut r = ModuleResult::default();
        let before = format!("value: {}\nstatus: {}\n", cur.value.unwrap_or_default(), cur.status.unwrap_or_default());
        r.diff.push(state_diff(format!("alternatives {name}"), before, format!("{}\n", cmds.join("\n"))));
        Ok(Plan::change(r, vec![Step::run("update-alternatives failed", cmds.join(" && "))]))
    }
}
