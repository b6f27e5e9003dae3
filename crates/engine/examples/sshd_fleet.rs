//! Start N real sshd hosts on 127.0.0.x (mdxconf-testkit), write an Ansible INI inventory usable
//! by both `mdxconf apply` and `ansible-playbook`, print "READY", and wait until killed.
//!
//!     cargo run --release -p mdxconf-engine --example sshd_fleet -- N INVENTORY_PATH [WORK_DIR]
//!
//! `FLEET_SSHD_LOG_LEVEL=VERBOSE` makes every sshd log one `Starting session: ...` line per exec
//! request (and per subsystem) in `hostN.log` in the fleet dir, so benchmarks can count remote round
//! trips per host (default ERROR: nothing per command).
#![allow(clippy::disallowed_methods)] // an example writes its output plainly
use mdxconf_testkit::{FleetOptions, SshdFleet};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: sshd_fleet N INVENTORY_PATH [WORK_DIR]");
        std::process::exit(2);
    }
    let n: usize = args[1].parse().expect("N");
    let inv_path = std::path::PathBuf::from(&args[2]);
    let work = args.get(3).cloned().unwrap_or_else(|| "/tmp/mdxbench".into());
    let log_level = std::env::var("FLEET_SSHD_LOG_LEVEL").unwrap_or_else(|_| "ERROR".into());
    let fleet = SshdFleet::start_with(FleetOptions { hosts: n, log_level, ..Default::default() }).expect("start sshd fleet");
    let mut inv = fleet.inventory_ini("bench");
    // Both tools read these: strict host key checking against the fleet's known_hosts.
    inv.push_str(&format!(
        "\n[bench:vars]\nansible_ssh_common_args=\"-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes\"\nansible_python_interpreter=/usr/bin/python3\nbench_root={work}\n",
        kh = fleet.known_hosts.display()
    ));
    std::fs::write(&inv_path, inv).expect("write inventory");
    println!("READY {} hosts, inventory {}, fleet dir {}", n, inv_path.display(), fleet.dir.display());
    std::io::stdout().flush().ok();
    // Until killed (SIGTERM/SIGINT): the fleet's Drop stops the sshd processes.
    wait_for_signal();
    drop(fleet);
}

/// Block until SIGTERM or SIGINT, then return so Drop cleans up.
fn wait_for_signal() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
    });
}
