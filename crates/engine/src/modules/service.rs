//! service / systemd: started/stopped/restarted/reloaded, enabled, masked, daemon_reload.
//! Status (and daemon-reload, when asked) in one exec; enable/mask work offline (chroot image builds),
//! starting/stopping needs a running systemd and says so clearly otherwise.
use super::util::{failed, failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{json, Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "name|service|unit",
        "state",
        "enabled",
        "daemon_reload|daemon-reload",
        "daemon_reexec|daemon-reexec",
        "masked",
        "scope",
        "no_block",
        "force",
        "sleep",
        "pattern",
        "runlevel",
        "arguments|args",
        "use",
    ],
    required: &[],
};

pub async fn run(module: &'static str, args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new(module, &SPEC, args)?;
    let name = a.str("name")?;
    let state = a.str("state")?;
    if let Some(s) = &state {
        if !["started", "stopped", "restarted", "reloaded"].contains(&s.as_str()) {
            bail!("{module}: argument 'state' must be one of started, stopped, restarted, reloaded; got '{s}'");
        }
    }
    let enabled = a.opt_bool("enabled")?;
    let masked = a.opt_bool("masked")?;
    let reload = a.bool("daemon_reload", false)?;
    let reexec = a.bool("daemon_reexec", false)?;
    if name.is_none() && (state.is_some() || enabled.is_some() || masked.is_some()) {
        bail!("{module}: name is required with state, enabled or masked");
    }
    if name.is_none() && !reload && !reexec {
        bail!("{module}: one of name, daemon_reload or daemon_reexec is required");
    }
    let mut sc = String::from("systemctl");
    if let Some(s) = a.str("scope")? {
        match s.as_str() {
            "system" => {}
            "user" => sc += " --user",
            "global" => sc += " --global",
            _ => bail!("{module}: scope must be system, user or global"),
        }
    }
    if a.bool("no_block", false)? {
        sc += " --no-block";
    }
    let mut s = String::from("if [ -d /run/systemd/system ]; then echo running=1; fi\nif ! command -v systemctl >/dev/null 2>&1; then echo nosystemctl=1; exit 0; fi\n");
    // Ansible reloads before reading the state, so unit changes made by earlier tasks are seen
    if !ctx.check {
        if reexec {
            s += &format!("[ -d /run/systemd/system ] && {{ {sc} daemon-reexec || echo reexec_failed=1; }}\n");
        }
        if reload {
            s += &format!("[ -d /run/systemd/system ] && {{ {sc} daemon-reload || echo reload_failed=1; }}\n");
        }
    }
    if let Some(n) = &name {
        let n = q(n);
        s += &format!("e=$({sc} is-enabled {n} 2>/dev/null); echo \"erc=$?\"; echo \"enabled=$e\" | head -1\n");
        s += &format!("if [ -d /run/systemd/system ]; then echo \"active=$({sc} is-active {n} 2>/dev/null | head -1)\"; echo \"load=$({sc} show -p LoadState --value {n} 2>/dev/null)\"; fi\n");
    }
    let out = sh(ctx, &s, None).await?;
    let kv = super::util::kv(&text(&out.stdout));
    let running = kv.contains_key("running");
    if kv.contains_key("nosystemctl") {
        return Ok(failed(format!("{module}: systemctl not found on this host; only systemd is supported")));
    }
    if kv.contains_key("reload_failed") || kv.contains_key("reexec_failed") {
        return Ok(failed(format!("{module}: systemctl daemon-reload failed")));
    }
    let needs_running = state.is_some() || reload || reexec;
    if needs_running && !running {
        return Ok(failed(format!(
            "{module}: systemd is not running on this host (no /run/systemd/system, e.g. a chroot or container): cannot {}; enabled/masked work without it",
            state.as_deref().unwrap_or("daemon-reload")
        )));
    }
    let mut r = ModuleResult::default();
    let Some(name) = name else { return Ok(r) };
    let erc: i32 = kv.get("erc").and_then(|v| v.parse().ok()).unwrap_or(1);
    let estate = kv.get("enabled").cloned().unwrap_or_default();
    let active = kv.get("active").cloned().unwrap_or_default();
    let load = kv.get("load").cloned().unwrap_or_default();
    let exists = !estate.is_empty() || (running && !load.is_empty() && load != "not-found");
    if !exists && masked != Some(true) {
        return Ok(failed(format!("Could not find the requested service {name}: host")));
    }
    let is_enabled = erc == 0 && estate != "indirect" && estate != "alias";
    let is_masked = estate == "masked" || estate == "masked-runtime";
    let is_active = active == "active" || active == "activating" || active == "reloading";
    let n = q(&name);
    let mut cmds: Vec<String> = vec![];
    let (mut before, mut after) = (String::new(), String::new());
    if let Some(m) = masked {
        if m != is_masked {
            cmds.push(format!("{sc} {} {n}", if m { "mask" } else { "unmask" }));
            before += &format!("masked: {is_masked}\n");
            after += &format!("masked: {m}\n");
        }
    }
    if let Some(e) = enabled {
        if e != is_enabled {
            cmds.push(format!("{sc} {} {n}", if e { "enable" } else { "disable" }));
            before += &format!("enabled: {is_enabled}\n");
            after += &format!("enabled: {e}\n");
        }
    }
    match state.as_deref() {
        Some("started") if !is_active => {
            cmds.push(format!("{sc} start {n}"));
            before += &format!("state: {active}\n");
            after += "state: started\n";
        }
        Some("stopped") if is_active => {
            cmds.push(format!("{sc} stop {n}"));
            before += &format!("state: {active}\n");
            after += "state: stopped\n";
        }
        // like Ansible: restarted/reloaded always act and report a change (handlers decide when to run them)
        Some("restarted") => {
            cmds.push(format!("{sc} restart {n}"));
            before += &format!("state: {active}\n");
            after += "state: restarted\n";
        }
        Some("reloaded") => {
            cmds.push(format!("{sc} {} {n}", if is_active { "reload" } else { "start" }));
            before += &format!("state: {active}\n");
            after += "state: reloaded\n";
        }
        _ => {}
    }
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("status".into(), json!({"ActiveState": active, "UnitFileState": estate, "LoadState": load}));
    if let Some(s) = &state {
        r.data.insert("state".into(), s.clone().into());
    }
    if let Some(e) = enabled {
        r.data.insert("enabled".into(), e.into());
    }
    if cmds.is_empty() {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff(format!("service {name}"), before, after));
    if ctx.check {
        return Ok(r);
    }
    let out = sh(ctx, &cmds.join(" && "), None).await?;
    if out.rc != 0 {
        let mut f = failed_exec(format!("Unable to change service {name}"), &out);
        f.diff = r.diff;
        return Ok(f);
    }
    Ok(r)
}
