//! Scale check for the transport: start N real sshd hosts, connect to all (at most FORKS at a time),
//! run a few commands on each, and print timings and the controller's peak RSS.
//! `cargo run --release -p mdxconf-transport --example fleet_scale -- 500 50 [jump]`
//! With `jump`, host1 is a bastion and every other host is reached through it (one shared connection).
use mdxconf_testkit::SshdFleet;
use mdxconf_transport::{connect_ssh, remote_sha256, sh_quote};
use std::sync::Arc;
use std::time::Instant;

fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let forks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let jump = args.next().as_deref() == Some("jump");
    let t0 = Instant::now();
    let fleet = Arc::new(SshdFleet::start(n).expect("fleet"));
    println!("started {n} sshd in {:.2?}", t0.elapsed());
    let dir = tempfile::tempdir().unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(forks));
    let t1 = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let bastion = format!("root@{}:{}", fleet.hosts[0].address, fleet.hosts[0].port);
    for i in 0..n {
        let (fleet, sem) = (fleet.clone(), sem.clone());
        let mut target = fleet.target(i);
        if jump && i > 0 {
            target.proxy_jump = Some(bastion.clone());
        }
        let path = dir.path().join(format!("f{i}")).to_string_lossy().into_owned();
        set.spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let c = connect_ssh(&target).await?;
            for _ in 0..8 {
                c.exec("test -d /tmp", None).await?;
            }
            if remote_sha256(&*c, &path, None).await?.is_none() {
                c.exec(&format!("cat > {}", sh_quote(&path)), Some(vec![b'x'; 4096])).await?;
            }
            Ok::<_, mdxconf_transport::TransportError>(c)
        });
    }
    let mut conns = Vec::new();
    let mut failed = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(c) => conns.push(c),
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    println!("{n} hosts x 10 commands, forks {forks}, jump {jump}: {:.2?}, failed {failed}, peak RSS {} MiB", t1.elapsed(), peak_rss_kib() / 1024);
}
