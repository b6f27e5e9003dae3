//! The floor for `mdxconf apply` over SSH (benches/apply_bench.sh): the same fleet and the same number
//! of remote round trips per host as mdxconf's no-change run, done the cheapest way with the same
//! transport (mdxconf-transport's russh `SshConnection`: one persistent connection per host, one
//! session channel per command). No playbook, no templating, no modules, no executor: per host, T
//! commands back to back, each waiting for the previous one's exit status; up to FORKS hosts at once.
//!
//!     ssh_floor INVENTORY_INI T [FORKS [COMMAND | @FILE]]      (FORKS default 50, COMMAND `true`)
//!
//! `@FILE` replays real commands instead of `true`: FILE holds NUL-separated shell commands (e.g. the
//! ones mdxconf's no-change run sent, as captured from a host's sshd), `{host}` in them becomes the
//! inventory name, and host k's i-th command is the (i mod count)-th one. The difference between that and
//! `true` is what the remote commands themselves cost (forks of stat, sha256sum, ... on the host).
//!
//! Two phases, timed separately: connect (TCP, key exchange, host key check, public key auth) to
//! every host, then T commands per host. Prints one line of `key=value` results; exits 1 if any
//! connection or command failed (or a command's exit status was not 0).
//!
//! The inventory (e.g. the one `sshd_fleet` writes) is read as `apply` reads it, hosts reached as `apply`
//! reaches them (`mdxconf_engine::ssh_target`).
#![allow(clippy::disallowed_methods)] // an example reads its input and writes its output plainly
use mdxconf_transport::{Connection, SshConnection, SshTarget};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The inventory's hosts as `apply` would reach them (the config crate's inventory, the engine's
/// `ansible_*` to target rule), strict host keys.
fn load_targets(path: &str) -> Vec<SshTarget> {
    let inv = mdxconf_config::inventory::Inventory::load(std::path::Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    inv.hosts_matching("all").iter().map(|h| mdxconf_engine::ssh_target(h, &inv.host_vars(h), false, None).unwrap_or_else(|e| panic!("{h}: {e}"))).collect()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: ssh_floor INVENTORY_INI T [FORKS [COMMAND]]");
        std::process::exit(2);
    }
    let t: usize = args[2].parse().expect("T: commands per host");
    let forks: usize = args.get(3).map(|s| s.parse().expect("FORKS")).unwrap_or(50).max(1);
    let cmd = args.get(4).cloned().unwrap_or_else(|| "true".into());
    let cmds: Vec<String> = match cmd.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).expect("read commands file").split('\0').filter(|c| !c.trim().is_empty()).map(str::to_string).collect(),
        None => vec![cmd],
    };
    assert!(!cmds.is_empty(), "no commands");
    let targets = load_targets(&args[1]);
    if targets.is_empty() {
        eprintln!("no hosts in {}", args[1]);
        std::process::exit(2);
    }
    mdxconf_transport::raise_nofile_limit();
    // the same runtime `mdxconf apply` builds (cli::run_apply)
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let code = rt.block_on(run(targets, t, forks, Arc::new(cmds)));
    std::process::exit(code);
}

async fn run(targets: Vec<SshTarget>, t: usize, forks: usize, cmds: Arc<Vec<String>>) -> i32 {
    let n = targets.len();
    let sem = Arc::new(Semaphore::new(forks));
    let start = Instant::now();

    // phase 1: one connection per host, FORKS at a time
    let mut tasks = Vec::with_capacity(n);
    for target in targets {
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore");
            SshConnection::connect(&target).await
        }));
    }
    let mut conns: Vec<Arc<SshConnection>> = Vec::with_capacity(n);
    let mut failed = 0usize;
    for task in tasks {
        match task.await.expect("connect task") {
            Ok(c) => conns.push(Arc::new(c)),
            Err(e) => {
                eprintln!("connect: {e}");
                failed += 1;
            }
        }
    }
    let connected = Instant::now();

    // phase 2: T commands per host, back to back, FORKS hosts at a time
    let mut tasks = Vec::with_capacity(conns.len());
    for c in &conns {
        let (c, sem, cmds) = (c.clone(), sem.clone(), cmds.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore");
            let mut lat = Vec::with_capacity(t);
            let mut bad = 0usize;
            for i in 0..t {
                let cmd = cmds[i % cmds.len()].replace("{host}", c.host());
                let t0 = Instant::now();
                match c.exec(&cmd, None).await {
                    Ok(out) if out.rc == 0 => {}
                    Ok(out) => {
                        eprintln!("{}: `{cmd}` exited {}", c.host(), out.rc);
                        bad += 1;
                    }
                    Err(e) => {
                        eprintln!("exec: {e}");
                        bad += 1;
                    }
                }
                lat.push(t0.elapsed());
            }
            (lat, bad)
        }));
    }
    let mut lat = Vec::with_capacity(conns.len() * t);
    let mut exec_failed = 0usize;
    for task in tasks {
        let (l, bad) = task.await.expect("exec task");
        lat.extend(l);
        exec_failed += bad;
    }
    let done = Instant::now();
    for c in &conns {
        c.close().await;
    }
    lat.sort();
    println!(
        "ssh_floor hosts={n} connected={} t={t} forks={forks} execs={} connect_s={:.3} exec_s={:.3} total_s={:.3} exec_ms_p50={:.2} exec_ms_p99={:.2} failed={}",
        conns.len(),
        lat.len() - exec_failed,
        (connected - start).as_secs_f64(),
        (done - connected).as_secs_f64(),
        (done - start).as_secs_f64(),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        failed + exec_failed
    );
    i32::from(failed + exec_failed > 0)
}
