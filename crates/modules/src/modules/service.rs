//! service / systemd (alias systemd_service): started/stopped/restarted/reloaded, enabled, masked,
//! daemon_reload. The state is read in one exec; enable/mask work offline (chroot image builds),
//! starting/stopping needs a running systemd and says so clearly otherwise.
use crate::host::unit::{parse_unit, unit_script};
use crate::plan::Step;
use crate::spec::{b, i, s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use serde_json::json;

pub struct Service;
pub struct Systemd;

// One spec for both: Ansible's service action hands its arguments to the systemd module on systemd hosts
// (dropping the sysvinit-only ones with a warning: ignored here too).
static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").aliases(&["service", "unit"]),
    s("state").choices(&["started", "stopped", "restarted", "reloaded"]),
    b("enabled"),
    b("daemon_reload").aliases(&["daemon-reload"]).default(Def::Bool(false)),
    b("daemon_reexec").aliases(&["daemon-reexec"]).default(Def::Bool(false)),
    b("masked"),
    s("scope").choices(&["system", "user", "global"]).default(Def::Str("system")),
    b("no_block").default(Def::Bool(false)),
    b("force").ignored(),
    i("sleep").ignored(),
    s("pattern").ignored(),
    s("runlevel").ignored(),
    s("arguments").aliases(&["args"]).ignored(),
    s("use").default(Def::Str("auto")),
]);

async fn plan(module: &str, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
    let name = a.str("name")?;
    let state = a.str("state")?;
    let enabled = a.opt_bool("enabled")?;
    let masked = a.opt_bool("masked")?;
    let reload = a.bool("daemon_reload")?;
    let reexec = a.bool("daemon_reexec")?;
    let use_ = a.req("use")?;
    if !["auto", "systemd", "service"].contains(&use_.as_str()) {
        bail!("{module}: use={use_} is not supported: mdxconf manages services with systemd only");
    }
    // Ansible's required_by: state/enabled/masked need a name
    for (k, given) in [("state", state.is_some()), ("enabled", enabled.is_some()), ("masked", masked.is_some())] {
        if given && name.is_none() {
            bail!("{module}: missing parameter(s) required by '{k}': name");
        }
    }
    if name.is_none() && !reload && !reexec {
        bail!("{module}: one of name, daemon_reload or daemon_reexec is required");
    }
    let mut sc = String::from("systemctl");
    match a.req("scope")?.as_str() {
        "user" => sc += " --user",
        "global" => sc += " --global",
        _ => {}
    }
    if a.bool("no_block")? {
        sc += " --no-block";
    }
    let out = sh(ctx, &unit_script(&sc, name.as_deref()), None).await?;
    let u = parse_unit(&text(&out.stdout));
    if !u.systemctl {
        return Ok(Plan::failed(format!("{module}: systemctl not found on this host; only systemd is supported")));
    }
    if (state.is_some() || reload || reexec) && !u.running {
        return Ok(Plan::failed(format!(
            "{module}: systemd is not running on this host (no /run/systemd/system, e.g. a chroot or container): cannot {}; enabled/masked work without it",
            state.as_deref().unwrap_or("daemon-reload")
        )));
    }
    // Ansible reloads before acting, so unit files written by earlier tasks are used; a reload is no change
    let mut steps = vec![];
    if reexec {
        steps.push(Step::run(format!("{module}: systemctl daemon-reexec failed"), format!("{sc} daemon-reexec")));
    }
    if reload {
        steps.push(Step::run(format!("{module}: systemctl daemon-reload failed"), format!("{sc} daemon-reload")));
    }
    let mut r = ModuleResult::default();
    let Some(name) = name else { return Ok(Plan { result: r, steps }) };
    if !u.exists() && masked != Some(true) {
        return Ok(Plan::failed(format!("Could not find the requested service {name}: host")));
    }
    let (is_enabled, is_masked, is_active) = (u.is_enabled(), u.is_masked(), u.is_active());
    let active = &u.active;
    let n = q(&name);
    let mut cmds: Vec<String> = vec![];
    let (mut before, mut after) = (String::new(), String::new());
    if let Some(m) = masked.filter(|m| *m != is_masked) {
        cmds.push(format!("{sc} {} {n}", if m { "mask" } else { "unmask" }));
        before += &format!("masked: {is_masked}\n");
        after += &format!("masked: {m}\n");
    }
    if let Some(e) = enabled.filter(|e| *e != is_enabled) {
        cmds.push(format!("{sc} {} {n}", if e { "enable" } else { "disable" }));
        before += &format!("enabled: {is_enabled}\n");
        after += &format!("enabled: {e}\n");
    }
    let act = match state.as_deref() {
        Some("started") if !is_active => Some(("start", "started")),
        Some("stopped") if is_active => Some(("stop", "stopped")),
        // like Ansible: restarted/reloaded always act and report a change (handlers decide when to run them)
        Some("restarted") => Some(("restart", "restarted")),
        Some("reloaded") => Some((if is_active { "reload" } else { "start" }, "reloaded")),
        _ => None,
    };
    if let Some((verb, label)) = act {
        cmds.push(format!("{sc} {verb} {n}"));
        before += &format!("state: {active}\n");
        after += &format!("state: {label}\n");
    }
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("status".into(), json!({"ActiveState": active, "UnitFileState": u.unit_file_state, "LoadState": u.load}));
    if let Some(s) = &state {
        r.data.insert("state".into(), s.clone().into());
    }
    if let Some(e) = enabled {
        r.data.insert("enabled".into(), e.into());
    }
    if !cmds.is_empty() {
        r.changed = true;
        r.diff.push(state_diff(format!("service {name}"), before, after));
        steps.push(Step::run(format!("Unable to change service {name}"), cmds.join(" && ")));
    }
    Ok(Plan { result: r, steps })
}

#[async_trait::async_trait]
impl Module for Service {
    fn name(&self) -> &'static str {
        "service"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        plan("service", a, ctx).await
    }
}

#[async_trait::async_trait]
impl Module for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["systemd_service"]
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        plan("systemd", a, ctx).await
    }
}
