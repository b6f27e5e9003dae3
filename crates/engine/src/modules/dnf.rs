//! dnf (RHEL family): installed state via `rpm -q` in one exec, one dnf call for all changes.
//! Not exercised by the test suite (no RPM-based root available offline); kept deliberately simple.
use super::util::{failed, failed_exec, put_output, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const SPEC: Spec = Spec {
    args: &["name|pkg", "state", "update_cache|expire-cache", "enablerepo", "disablerepo", "disable_gpg_check", "install_weak_deps", "autoremove", "lock_timeout", "allowerasing", "nobest"],
    required: &[],
};

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("dnf", &SPEC, args)?;
    let names = a.list("name")?;
    let state = match a.str("state")?.as_deref().unwrap_or("present") {
        "present" | "installed" => "present",
        "absent" | "removed" => "absent",
        "latest" => "latest",
        s => bail!("dnf: argument 'state' must be one of present, absent, latest; got '{s}'"),
    };
    if names.is_empty() {
        bail!("dnf: name is required");
    }
    let mut opts = String::from("-y");
    for r in a.list("enablerepo")? { opts += &format!(" --enablerepo={}", q(&r)); }
    for r in a.list("disablerepo")? { opts += &format!(" --disablerepo={}", q(&r)); }
    if a.bool("disable_gpg_check", false)? { opts += " --nogpgcheck"; }
    if let Some(w) = a.opt_bool("install_weak_deps")? { opts += &format!(" --setopt=install_weak_deps={}", if w { "True" } else { "False" }); }
    if a.bool("allowerasing", false)? { opts += " --allowerasing"; }
    if a.bool("nobest", false)? { opts += " --nobest"; }
    if a.bool("update_cache", false)? { opts += " --refresh"; }
    let bare: Vec<String> = names.iter().map(|n| q(n)).collect();
    let mut script = format!("command -v rpm >/dev/null 2>&1 || {{ echo NORPM; exit 0; }}\nrpm -q --qf 'P\\t%{{NAME}}\\t%{{VERSION}}-%{{RELEASE}}\\n' {} 2>/dev/null\n", bare.join(" "));
    if state == "latest" {
        script += &format!("dnf -q {opts} check-update {} >/dev/null 2>&1; echo upd=$?\n", bare.join(" "));
    }
    script += "true\n";
    let out = text(&sh(ctx, &script, None).await?.stdout);
    if out.contains("NORPM") {
        return Ok(failed("dnf: rpm not found on this host (not a RHEL-family system?)"));
    }
    let installed: HashMap<String, String> = out.lines().filter_map(|l| l.strip_prefix("P\t")).filter_map(|l| l.split_once('\t')).map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let updates = super::util::kv(&out).get("upd").map(String::as_str) == Some("100");
    let mut todo = vec![];
    let (mut before, mut after) = (String::new(), String::new());
    for n in &names {
        let have = installed.get(n.as_str());
        let act = match state {
            "present" => have.is_none(),
            "absent" => have.is_some(),
            _ => have.is_none() || updates,
        };
        if act {
            todo.push(q(n));
            before += &format!("{n}: {}\n", have.map(String::as_str).unwrap_or("absent"));
            after += &format!("{n}: {}\n", if state == "absent" { "absent" } else { "installed" });
        }
    }
    let mut r = ModuleResult::default();
    if todo.is_empty() {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff("packages", before, after));
    if ctx.check {
        return Ok(r);
    }
    let verb = match state { "absent" => "remove", "latest" => "upgrade", _ => "install" };
    // `dnf upgrade` does not install missing packages; install does both for latest when needed
    let verb = if state == "latest" && todo.iter().any(|t| !installed.contains_key(t.trim_matches('\''))) { "install" } else { verb };
    let out = sh(ctx, &format!("dnf {opts} {verb} {}", todo.join(" ")), None).await?;
    put_output(&mut r.data, &out);
    if out.rc != 0 {
        return Ok(failed_exec(format!("dnf {verb} failed"), &out));
    }
    Ok(r)
}
