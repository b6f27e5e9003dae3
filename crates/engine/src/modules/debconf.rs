//! debconf: preseed a question (debconf-set-selections), compared with debconf-show first.
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name|pkg", "question|selection|setting", "vtype", "value|answer", "unseen"], required: &["name"] };

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("debconf", &SPEC, args)?;
    let name = a.req("name")?;
    let question = a.str("question")?;
    let vtype = a.str("vtype")?;
    let value = match a.raw("value") {
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => a.str("value")?,
    };
    let out = sh(ctx, &format!("debconf-show {} 2>/dev/null; true", q(&name)), None).await?;
    let mut current = Map::new();
    for l in text(&out.stdout).lines() {
        let l = l.trim_start_matches(['*', ' ']);
        if let Some((k, v)) = l.split_once(": ") {
            current.insert(k.to_string(), v.to_string().into());
        } else if let Some(k) = l.strip_suffix(':') {
            current.insert(k.to_string(), "".into());
        }
    }
    let mut r = ModuleResult::default();
    r.data.insert("current".into(), Value::Object(current.clone()));
    let Some(question) = question else { return Ok(r) };
    let (Some(vtype), Some(value)) = (vtype, value) else { bail!("debconf: question needs vtype and value") };
    let value = if vtype == "boolean" {
        match value.as_str() {
            "True" | "yes" => "true".into(),
            "False" | "no" => "false".into(),
            v => v.to_string(),
        }
    } else {
        value
    };
    let have = current.get(&question).and_then(|v| v.as_str()).map(str::to_string);
    // passwords are never shown by debconf-show, so they are always set (like Ansible)
    if vtype != "password" && have.as_deref() == Some(value.as_str()) {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff(
        format!("debconf {name} {question}"),
        format!("{}\n", have.unwrap_or_default()),
        if vtype == "password" { "(password)\n".into() } else { format!("{value}\n") },
    ));
    if ctx.check {
        return Ok(r);
    }
    let line = format!("{name} {question} {vtype} {value}\n");
    let out = sh(ctx, &format!("debconf-set-selections{}", if a.bool("unseen", false)? { " -u" } else { "" }), Some(line.into_bytes())).await?;
    if out.rc != 0 {
        return Ok(failed_exec("debconf-set-selections failed", &out));
    }
    Ok(r)
}
