//! wait_for: a TCP port or a path (optionally containing a regex) reaching a state, polled on the host in
//! one exec. Waiting changes nothing, so the plan waits (check mode too: later tasks see the same world).
use crate::spec::{i, l, s, ArgSpec, Def};
use crate::util::{failed, kv, sh, sh_quote as q, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};

pub struct WaitFor;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("host").default(Def::Str("127.0.0.1")),
    i("port"),
    s("path"),
    s("state").choices(&["started", "stopped", "present", "absent", "drained"]).default(Def::Str("started")),
    i("timeout").default(Def::Int(300)),
    i("delay").default(Def::Int(0)),
    i("sleep").default(Def::Int(1)),
    s("search_regex"),
    i("connect_timeout").default(Def::Int(5)),
    s("msg"),
    // only meaningful with state=drained, which is refused
    l("exclude_hosts"),
    l("active_connection_states"),
])
.exclusive(&[&["port", "path"]]);

#[async_trait::async_trait]
impl Module for WaitFor {
    fn name(&self) -> &'static str {
        "wait_for"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let state = a.req("state")?;
        if state == "drained" {
            bail!("wait_for: state=drained is not supported");
        }
        for k in ["exclude_hosts", "active_connection_states"] {
            if a.get(k).is_some() {
                bail!("wait_for: {k} is only used with state=drained, which is not supported");
            }
        }
        let host = a.req("host")?;
        let port = a.int("port")?;
        let path = a.str("path")?;
        let regex = a.str("search_regex")?;
        if port.is_some() && regex.is_some() {
            bail!("wait_for: search_regex on a port (reading from the socket) is not supported; use it with path");
        }
        let num = |k: &str| -> Result<i64> { Ok(a.int(k)?.unwrap_or(0)) };
        let (timeout, delay, sleep, ct) = (num("timeout")?, num("delay")?, num("sleep")?.max(1), num("connect_timeout")?);
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
        let script = if port.is_none() && path.is_none() {
            format!("sleep {}; echo elapsed={}", delay + timeout, delay + timeout)
        } else {
            format!("start=$(date +%s); sleep {delay}; end=$((start + {delay} + {timeout}))\nwhile :; do if {cond}; then echo elapsed=$(( $(date +%s) - start )); exit 0; fi; if [ $(date +%s) -ge $end ]; then echo elapsed=$(( $(date +%s) - start )); exit 3; fi; sleep {sleep}; done\n")
        };
        let out = sh(ctx, &script, None).await?;
        let mut r = ModuleResult::default();
        r.data.insert("elapsed".into(), kv(&text(&out.stdout)).get("elapsed").and_then(|e| e.parse::<u64>().ok()).unwrap_or(0).into());
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
            let mut f = failed(a.str("msg")?.unwrap_or_else(|| format!("Timeout when waiting for {what} to be {state}")));
            f.data = r.data;
            return Ok(Plan::done(f));
        }
        Ok(Plan::done(r))
    }
}
