//! sysctl: a key in a sysctl file (edited atomically) and optionally in the running kernel.
use super::copy::{put_with_info, Put};
use super::fileops::{gather_script, parse_gather, sha256_hex, GatherOpts, Want};
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name|key", "value|val", "state", "sysctl_file", "reload", "sysctl_set", "ignoreerrors"], required: &["name"] };

fn norm(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// New file text: the key set once (first occurrence replaced, duplicates dropped) or removed.
pub fn edit(text: &str, key: &str, value: Option<&str>) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let k = t.split_once('=').map(|(k, _)| k.trim());
        if !t.starts_with('#') && !t.starts_with(';') && k == Some(key) {
            if let (Some(v), false) = (value, done) {
                let cur = t.split_once('=').map(|(_, v)| v.trim()).unwrap_or("");
                if norm(cur) == norm(v) {
                    out.push_str(line);
                } else {
                    out.push_str(&format!("{key}={v}\n"));
                }
                done = true;
            }
            continue;
        }
        out.push_str(line);
    }
    if let (Some(v), false) = (value, done) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{key}={v}\n"));
    }
    out
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("sysctl", &SPEC, args)?;
    let key = a.req("name")?.trim().to_string();
    let state = a.choice("state", "present", &["present", "absent"])?;
    let value = match a.raw("value") {
        Some(Value::Bool(b)) => Some(if *b { "1".to_string() } else { "0".to_string() }),
        _ => a.str("value")?.map(|v| v.trim().to_string()),
    };
    if state == "present" && value.is_none() {
        bail!("sysctl: value is required with state=present");
    }
    let file = a.str("sysctl_file")?.unwrap_or_else(|| "/etc/sysctl.conf".into());
    let reload = a.bool("reload", true)?;
    let set_live = a.bool("sysctl_set", false)?;
    let ignore = a.bool("ignoreerrors", false)?;
    let mut script = String::new();
    if set_live {
        script += &format!("printf 'live=%s\\n' \"$(sysctl -n {} 2>/dev/null | tr '\\t\\n' '  ')\"\n", q(&key));
    }
    script += &gather_script(&file, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content });
    let out = sh(ctx, &script, None).await?;
    if out.rc != 0 {
        bail!("sysctl: reading {file} failed: {}", text(&out.stderr).trim());
    }
    let info = parse_gather(&out.stdout)?;
    let live = info.extra.get("live").map(|v| norm(v));
    let before = info.content.as_deref().map(text).unwrap_or_default();
    let want_val = if state == "present" { value.as_deref() } else { None };
    let after = edit(&before, &key, want_val);
    let file_changed = (info.exists() || state != "absent") && after != before;
    let mut r = ModuleResult::default();
    if file_changed {
        let mut p = Put::new(&file, after.clone().into_bytes());
        p.follow = true;
        if !info.exists() {
            p.attrs.mode = Some(super::fileops::ModeSpec::Octal(0o644));
        }
        let sha = sha256_hex(after.as_bytes());
        let w = put_with_info(ctx, p, info, sha).await?;
        if w.failed {
            return Ok(w);
        }
        r.changed = true;
        r.diff.extend(w.diff);
    }
    let live_change = set_live && state == "present" && live.as_deref() != value.as_deref().map(norm).as_deref();
    if live_change {
        r.changed = true;
        r.diff.push(state_diff(format!("sysctl {key} (running kernel)"), format!("{}\n", live.unwrap_or_default()), format!("{}\n", value.clone().unwrap_or_default())));
    }
    if ctx.check {
        return Ok(r);
    }
    let mut cmds = vec![];
    if live_change {
        cmds.push(format!("sysctl -w {}={}", q(&key), q(value.as_deref().unwrap_or(""))));
    }
    if file_changed && reload {
        cmds.push(format!("sysctl {}-p {}", if ignore { "-e " } else { "" }, q(&file)));
    }
    if !cmds.is_empty() {
        let out = sh(ctx, &cmds.join(" && "), None).await?;
        if out.rc != 0 {
            let mut f = failed_exec("sysctl failed", &out);
            f.changed = r.changed;
            return Ok(f);
        }
    }
    Ok(r)
}
