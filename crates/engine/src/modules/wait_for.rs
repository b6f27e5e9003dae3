//! wait_for: a TCP port or a path (optionally containing a regex) reaching a state, polled on the host.
use super::util::{failed, q, sh, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &["host", "port", "path", "state", "timeout", "delay", "sleep", "search_regex", "connect_timeout", "msg", "exclude_hosts", "active_connection_states"],
    required: &[],
};

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("wait_for", &SPEC, args)?;
    let state = a.choice("state", "started", &["started", "stopped", "present", "absent", "drained"])?;
    if state == "drained" {
        bail!("wait_for: state=drained is not supported");
    }
    let host = a.str("host")?.unwrap_or_else(|| "127.0.0.1".into());
    let port = a.int("port")?;
    let path = a.str("path")?;
    if port.is_some() && path.is_some() {
        bail!("wait_for: port and path are mutually exclusive");
    }
    let timeout = a.int("timeout")?.unwrap_or(300);
    let delay = a.int("delay")?.unwrap_or(0);
    let sleep = a.int("sleep")?.unwrap_or(1).max(1);
    let ct = a.int("connect_timeout")?.unwrap_or(5);
    let regex = a.str("search_regex")?;
    let cond = match (port, &path) {
        (Some(p), _) => {
            // bash's /dev/tcp, else python3: whichever the host has
            let probe = format!(
                "{{ if command -v bash >/dev/null 2>&1; then timeout {ct} bash -c 'exec 3<>/dev/tcp/'{h}'/{p}' ; else timeout {ct} python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), {ct})' {h} {p}; fi; }} >/dev/null 2>&1",
                h = q(&host)
            );
            if matches!(state.as_str(), "started" | "present") {
                probe
            } else {
                format!("! {probe}")
            }
        }
        (None, Some(p)) => match state.as_str() {
            "absent" | "stopped" => format!("[ ! -e {} ]", q(p)),
            _ => match &regex {
                Some(re) => format!("grep -Eq -- {} {} 2>/dev/null", q(re), q(p)),
                None => format!("[ -e {} ]", q(p)),
            },
        },
        (None, None) => "false".to_string(),
    };
    let just_sleep = port.is_none() && path.is_none();
    let script = if just_sleep {
        format!("sleep {}; echo elapsed={}", delay + timeout, delay + timeout)
    } else {
        format!("start=$(date +%s); sleep {delay}; end=$((start + {delay} + {timeout}))\nwhile :; do if {cond}; then echo elapsed=$(( $(date +%s) - start )); exit 0; fi; if [ $(date +%s) -ge $end ]; then echo elapsed=$(( $(date +%s) - start )); exit 3; fi; sleep {sleep}; done\n")
    };
    let mut r = ModuleResult::default();
    // waiting changes nothing, so check mode waits too: later tasks then see the same world
    let out = sh(ctx, &script, None).await?;
    let kv = super::util::kv(&text(&out.stdout));
    r.data.insert("elapsed".into(), kv.get("elapsed").and_then(|e| e.parse::<u64>().ok()).unwrap_or(0).into());
    r.data.insert("state".into(), state.clone().into());
    if let Some(p) = port {
        r.data.insert("port".into(), p.into());
    }
    if let Some(p) = &path {
        r.data.insert("path".into(), p.clone().into());
    }
    if out.rc != 0 {
        let what = match (port, &path) {
            (Some(p), _) => format!("{host}:{p}"),
            (_, Some(p)) => p.clone(),
            _ => String::new(),
        };
        let msg = a.str("msg")?.unwrap_or_else(|| format!("Timeout when waiting for {what} to be {state}"));
        let mut f = failed(msg);
        f.data = r.data;
        return Ok(f);
    }
    Ok(r)
}
