//! hostname: /etc/hostname plus the running hostname (hostnamectl under systemd, `hostname` otherwise).
use super::copy::{put_content, Put};
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name", "use"], required: &["name"] };

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("hostname", &SPEC, args)?;
    let name = a.req("name")?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        bail!("hostname: invalid name '{name}'");
    }
    let use_ = a.str("use")?.unwrap_or_else(|| "auto".into());
    if !["auto", "systemd", "debian", "generic"].contains(&use_.as_str()) {
        bail!("hostname: use must be one of systemd, debian, generic (got '{use_}')");
    }
    let out = sh(ctx, "echo \"live=$(hostname)\"; echo \"file=$(cat /etc/hostname 2>/dev/null | head -1)\"; [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null && echo systemd=1; true", None).await?;
    let kv = super::util::kv(&text(&out.stdout));
    let live = kv.get("live").cloned().unwrap_or_default();
    let file = kv.get("file").cloned().unwrap_or_default();
    let systemd = kv.contains_key("systemd") && use_ != "debian" && use_ != "generic";
    let mut r = ModuleResult::default();
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("ansible_facts".into(), serde_json::json!({"ansible_hostname": name.split('.').next().unwrap_or(&name), "ansible_nodename": name}));
    if live == name && file == name {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff("hostname", format!("hostname: {live}\n/etc/hostname: {file}\n"), format!("hostname: {name}\n/etc/hostname: {name}\n")));
    if ctx.check {
        return Ok(r);
    }
    if file != name {
        let mut p = Put::new("/etc/hostname", format!("{name}\n").into_bytes());
        p.attrs.mode = Some(super::fileops::ModeSpec::Octal(0o644));
        let w = put_content(ctx, p).await?;
        if w.failed {
            return Ok(w);
        }
    }
    if live != name {
        let cmd = if systemd { format!("hostnamectl set-hostname {}", q(&name)) } else { format!("hostname {}", q(&name)) };
        let out = sh(ctx, &cmd, None).await?;
        if out.rc != 0 {
            return Ok(failed_exec("setting the hostname failed", &out));
        }
    }
    Ok(r)
}
