//! Control modules the executor handles itself: set_fact, debug, assert, include_vars, reboot.
use super::outcome::ItemOutcome;
use super::{Executor, PlayRt};
use crate::output::Status;
use crate::playbook::Task;
use mdxconf_config::template::Templater;
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn set_fact(args: Map<String, Value>) -> ItemOutcome {
    let facts: Map<String, Value> = args.into_iter().filter(|(k, _)| k != "cacheable").collect();
    let mut data = Map::new();
    data.insert("ansible_facts".into(), Value::Object(facts.clone()));
    let mut o = ItemOutcome::ok(false, "", data);
    o.set_facts = facts;
    o
}

pub fn debug(t: &Templater, args: Map<String, Value>, ctx: &Map<String, Value>, task: &Task) -> ItemOutcome {
    let mut data = Map::new();
    if let Some(var) = args.get("var").and_then(Value::as_str) {
        let v = t.eval_expr(var, &Value::Object(ctx.clone()), &task.origin).unwrap_or_else(|_| Value::String("VARIABLE IS NOT DEFINED!".into()));
        data.insert(var.to_string(), v);
    } else {
        let msg = args.get("msg").cloned().unwrap_or_else(|| Value::String("Hello world!".into()));
        data.insert("msg".into(), msg);
    }
    ItemOutcome::ok(false, "", data)
}

pub fn assert(t: &Templater, args: Map<String, Value>, ctx: &Map<String, Value>, task: &Task) -> ItemOutcome {
    let that = match args.get("that") {
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
        None => vec![],
    };
    let cval = Value::Object(ctx.clone());
    let quiet = args.get("quiet").map(super::outcome::truthy).unwrap_or(false);
    for cond in &that {
        match t.eval_condition(cond, &cval, &task.origin) {
            Ok(true) => {}
            Ok(false) => {
                let msg = args.get("fail_msg").or_else(|| args.get("msg")).map(|m| match m {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let shown = cond.as_str().map(str::to_string).unwrap_or_else(|| cond.to_string());
                let mut o = ItemOutcome::failed(msg.unwrap_or_else(|| "Assertion failed".into()));
                o.data.insert("assertion".into(), Value::String(shown));
                o.data.insert("evaluated_to".into(), Value::Bool(false));
                return o;
            }
            Err(e) => return ItemOutcome::failed(e.to_string()),
        }
    }
    let msg = if quiet { String::new() } else { args.get("success_msg").and_then(Value::as_str).unwrap_or("All assertions passed").to_string() };
    let mut data = Map::new();
    if !msg.is_empty() {
        data.insert("msg".into(), Value::String(msg.clone()));
    }
    ItemOutcome::ok(false, msg, data)
}

/// Load a vars file into the host's facts (relative to the role's vars/, then the playbook dir).
pub fn include_vars(args: Map<String, Value>, task: &Task, playbook_dir: &Path) -> ItemOutcome {
    let Some(file) = args.get("file").or_else(|| args.get("_raw_params")).and_then(Value::as_str) else {
        return ItemOutcome::failed("include_vars: `file` is required (dir is not supported)");
    };
    let mut cands = Vec::new();
    if let Some(r) = &task.role {
        cands.push(r.path.join("vars").join(file));
        cands.push(r.path.join(file));
    }
    cands.push(task.origin.file.parent().map(|d| d.join(file)).unwrap_or_default());
    cands.push(playbook_dir.join("vars").join(file));
    cands.push(playbook_dir.join(file));
    let Some(p) = cands.into_iter().find(|c| c.is_file()) else {
        return ItemOutcome::failed(format!("include_vars: file `{file}` not found"));
    };
    match crate::playbook::load_vars_file(&p) {
        Ok(vars) => {
            let facts = match args.get("name").and_then(Value::as_str) {
                Some(n) => {
                    let mut m = Map::new();
                    m.insert(n.to_string(), Value::Object(vars));
                    m
                }
                None => vars,
            };
            let mut data = Map::new();
            data.insert("ansible_facts".into(), Value::Object(facts.clone()));
            let mut o = ItemOutcome::ok(false, "", data);
            o.set_facts = facts;
            o
        }
        Err(e) => ItemOutcome::failed(e.to_string()),
    }
}

async fn boot_id(c: &dyn Connection) -> Option<String> {
    let out = c.exec("cat /proc/sys/kernel/random/boot_id", None).await.ok()?;
    (out.rc == 0).then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

/// Reboot and wait until the host is back with a new boot_id, reconnecting with retries.
#[allow(clippy::too_many_arguments)]
pub async fn reboot(
    ex: &Executor,
    conn: &Arc<dyn Connection>,
    become_user: Option<&str>,
    args: Map<String, Value>,
    check: bool,
    h: usize,
    prt: &PlayRt<'_>,
    ctx: &Map<String, Value>,
) -> ItemOutcome {
    if check {
        return ItemOutcome::ok(true, "reboot would be issued (check mode)", Map::new());
    }
    let secs = |k: &str, d: u64| args.get(k).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))).unwrap_or(d);
    let timeout = Duration::from_secs(secs("reboot_timeout", 600));
    let pre = Duration::from_secs(secs("pre_reboot_delay", 0));
    let post = Duration::from_secs(secs("post_reboot_delay", 0));
    let Some(before) = boot_id(&**conn).await else {
        return ItemOutcome::failed("reboot: cannot read /proc/sys/kernel/random/boot_id");
    };
    let cmd = args.get("reboot_command").and_then(Value::as_str).unwrap_or("shutdown -r now || reboot").to_string();
    // Detach so the channel returns before the machine goes down.
    let script = format!("sleep {}; (sleep 1; {cmd}) >/dev/null 2>&1 &", pre.as_secs());
    let script = mdxconf_transport::become_command(conn.login_user(), &script, become_user);
    let start = Instant::now();
    match conn.exec(&script, None).await {
        Ok(o) if o.rc != 0 => return ItemOutcome::failed(format!("reboot command failed: {}", String::from_utf8_lossy(&o.stderr))),
        _ => {}
    }
    conn.close().await;
    ex.hosts[h].lock().conn = None;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let name = ex.hosts[h].name.clone();
    let mut last_err = String::from("no attempt");
    while start.elapsed() < timeout {
        match super::connect::open(
            &name,
            ctx,
            prt.play.connection.as_deref(),
            prt.play.remote_user.as_deref().or(ex.opts.ansible_cfg.as_ref().and_then(|c| c.remote_user.as_deref())),
            ex.opts.accept_new_host_keys,
        )
        .await
        {
            Ok(c) => match boot_id(&*c).await {
                Some(now) if now != before => {
                    ex.hosts[h].lock().conn = Some(c);
                    tokio::time::sleep(post).await;
                    let mut data = Map::new();
                    data.insert("rebooted".into(), Value::Bool(true));
                    data.insert("elapsed".into(), Value::from(start.elapsed().as_secs()));
                    return ItemOutcome::ok(true, "", data);
                }
                _ => {
                    c.close().await;
                    last_err = "host still on the old boot".into();
                }
            },
            Err(e) => last_err = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut o = ItemOutcome::failed(format!("reboot: host did not come back within {}s ({last_err})", timeout.as_secs()));
    o.status = Status::Failed;
    o
}

/// `pause: seconds=N` / `minutes=N` (no interactive prompt).
pub async fn pause(args: Map<String, Value>) -> ItemOutcome {
    let num = |k: &str| args.get(k).and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
    let secs = num("seconds").unwrap_or(0.0) + num("minutes").unwrap_or(0.0) * 60.0;
    tokio::time::sleep(Duration::from_secs_f64(secs.max(0.0))).await;
    let mut data = Map::new();
    data.insert("delta".into(), Value::from(secs));
    ItemOutcome::ok(false, "", data)
}
