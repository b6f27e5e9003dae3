//! alternatives: register and select an update-alternatives entry.
use super::util::{failed, failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::Result;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name", "path", "link", "priority", "state", "family", "subcommands|slaves"], required: &["name"] };

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("alternatives", &SPEC, args)?;
    let name = a.req("name")?;
    let path = a.str("path")?;
    let state = a.choice("state", "selected", &["selected", "present", "auto", "absent"])?;
    let priority = a.int("priority")?.unwrap_or(50);
    if state != "auto" && path.is_none() {
        return Ok(failed(format!("alternatives: path is required with state={state}")));
    }
    let out = sh(ctx, &format!("LC_ALL=C update-alternatives --query {} 2>/dev/null; true", q(&name)), None).await?;
    let o = text(&out.stdout);
    let field = |k: &str| o.lines().find_map(|l| l.strip_prefix(&format!("{k}: "))).map(str::to_string);
    let current = field("Value");
    let status = field("Status");
    let link = a.str("link")?.or_else(|| field("Link"));
    let registered: Vec<String> = o.lines().filter_map(|l| l.strip_prefix("Alternative: ")).map(str::to_string).collect();
    let mut cmds = vec![];
    let (n, p) = (q(&name), path.as_deref().map(q).unwrap_or_default());
    let is_reg = path.as_ref().is_some_and(|x| registered.contains(x));
    if state != "absent" && path.is_some() && !is_reg {
        let Some(l) = &link else { return Ok(failed(format!("alternatives: link is required to register {name}"))) };
        cmds.push(format!("update-alternatives --install {} {n} {p} {priority}", q(l)));
    }
    match state.as_str() {
        "selected" if current != path => cmds.push(format!("update-alternatives --set {n} {p}")),
        "auto" if status.as_deref() != Some("auto") => cmds.push(format!("update-alternatives --auto {n}")),
        "absent" if is_reg => cmds.push(format!("update-alternatives --remove {n} {p}")),
        _ => {}
    }
    let mut r = ModuleResult::default();
    if cmds.is_empty() {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff(
        format!("alternatives {name}"),
        format!("value: {}\nstatus: {}\n", current.unwrap_or_default(), status.unwrap_or_default()),
        format!("{}\n", cmds.join("\n")),
    ));
    if ctx.check {
        return Ok(r);
    }
    let out = sh(ctx, &cmds.join(" && "), None).await?;
    if out.rc != 0 {
        return Ok(failed_exec("update-alternatives failed", &out));
    }
    Ok(r)
}
