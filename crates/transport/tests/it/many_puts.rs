//! Regression tests for a hang seen on a lab VM: copying ~90 wheel files (KBs to ~10 MB) one after
//! another over one persistent SSH connection stalled with the remote `cat` waiting on stdin.
//! Each put has a generous timeout so a hang fails the test instead of blocking forever; content
//! is checked by sha256 of the file the real sshd wrote on this host.
use crate::common;
use mdxconf_testkit::{FleetOptions, SshdFleet};
use mdxconf_transport::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PER_FILE: Duration = Duration::from_secs(60);

/// Sizes like a wheelhouse: many small, some around 1-10 MB, none a multiple of 32 KiB.
fn sizes(n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| match i % 10 {
            0 => 10 * 1024 * 1024 - 977 - i,
            3 => 1024 * 1024 + 12_345 + i * 7,
            6 => 3 * 1024 * 1024 + 32_769 + i,
            _ => 1 + (i * 7919) % 200_000,
        })
        .collect()
}

fn content(i: usize, len: usize) -> Vec<u8> {
    let mut x = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn local_sha(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

async fn put_checked(c: &dyn Connection, dir: &Path, i: usize, len: usize, slow_reader: bool) {
    let data = content(i, len);
    let want = sha256_hex(&data);
    let path = dir.join(format!("wheel-{i}.whl"));
    let p = path.to_str().unwrap();
    let work = async {
        if slow_reader {
            // The remote side reads 4 KiB at a time with pauses, as a guest behind QEMU's
            // user-mode NAT drains the connection in bursts: the SSH window fills up often.
            let script = format!(
                "python3 -c 'import sys,time\nf=open(sys.argv[1],\"wb\")\nn=0\nwhile True:\n b=sys.stdin.buffer.read1(4096)\n if not b: break\n f.write(b); n+=1\n if n%64==0: time.sleep(0.01)\n' '{p}'"
            );
            c.exec(&script, Some(data)).await
        } else {
            Ok(common::put(c, p, data).await)
        }
    };
    let out = tokio::time::timeout(PER_FILE, work)
        .await
        .unwrap_or_else(|_| panic!("put of file {i} ({len} bytes) hung for {PER_FILE:?}"))
        .unwrap_or_else(|e| panic!("put of file {i}: {e}"));
    assert_eq!(out.rc, 0, "file {i}: {}", common::text(&out.stderr));
    assert_eq!(local_sha(&path), want, "file {i} ({len} bytes) differs");
    std::fs::remove_file(&path).unwrap();
}

async fn sequential_then_concurrent(c: Arc<dyn Connection>, dir: &Path, n: usize, slow_reader: bool) {
    let sizes = sizes(n);
    for (i, len) in sizes.iter().enumerate() {
        put_checked(&*c, dir, i, *len, slow_reader).await;
    }
    // Then several at once on the same connection (the engine runs hosts in parallel).
    let mut set = tokio::task::JoinSet::new();
    for (i, len) in sizes.iter().enumerate().take(24) {
        let (c, dir, len) = (c.clone(), dir.to_path_buf(), *len);
        set.spawn(async move { put_checked(&*c, &dir, 1000 + i, len, slow_reader).await });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_puts_over_one_connection() {
    let _env = crate::common::env_shared();
    // OpenSSH's default MaxSessions, as on the lab guests (the fleet allows 100).
    let fleet = SshdFleet::start_with(FleetOptions { extra_sshd_config: "MaxSessions 10\n".into(), ..Default::default() }).unwrap();
    let dir = fleet.dir.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    sequential_then_concurrent(c.clone(), &dir, 100, false).await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_to_a_slow_reader() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let dir = fleet.dir.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    sequential_then_concurrent(c.clone(), &dir, 40, true).await;
    c.close().await;
}

/// Forward one TCP connection with tiny socket buffers, small reads and short pauses both ways:
/// bursty, backpressured like QEMU's user-mode NAT.
async fn choppy_proxy(listener: tokio::net::TcpListener, upstream: String) {
    loop {
        let Ok((down, _)) = listener.accept().await else { return };
        let up = tokio::net::TcpSocket::new_v4().unwrap();
        let _ = up.set_recv_buffer_size(4096);
        let _ = up.set_send_buffer_size(4096);
        let up = up.connect(upstream.parse().unwrap()).await.unwrap();
        let (dr, dw) = down.into_split();
        let (ur, uw) = up.into_split();
        tokio::spawn(pump(dr, uw));
        tokio::spawn(pump(ur, dw));
    }
}

async fn pump(mut r: tokio::net::tcp::OwnedReadHalf, mut w: tokio::net::tcp::OwnedWriteHalf) {
    let mut buf = vec![0u8; 3000];
    let mut n_reads = 0u64;
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if w.write_all(&buf[..n]).await.is_err() {
            break;
        }
        n_reads += 1;
        if n_reads.is_multiple_of(50) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let _ = w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_through_a_choppy_tcp_proxy() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let h = fleet.hosts[0].clone();
    let listener = tokio::net::TcpListener::bind((h.address.as_str(), 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(choppy_proxy(listener, format!("{}:{}", h.address, h.port)));
    fleet.append_known_hosts(&format!("[{}]:{} {}\n", h.address, port, h.host_public_key)).unwrap();
    let mut t = fleet.target(0);
    t.port = Some(port);
    let dir = fleet.dir.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let c = connect_ssh(&t).await.unwrap();
    sequential_then_concurrent(c.clone(), &dir, 60, false).await;
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_across_key_reexchanges() {
    let _env = crate::common::env_exclusive(&["MDXCONF_SSH_REKEY_BYTES"]);
    // Re-key every ~2 MB (russh's defaults: 1 GiB or one hour, which a long lab run reaches),
    // so key exchanges land in the middle of window-blocked transfers.
    std::env::set_var("MDXCONF_SSH_REKEY_BYTES", "2000000");
    let fleet = SshdFleet::start_with(FleetOptions { log_level: "DEBUG1".into(), ..Default::default() }).unwrap();
    let dir = fleet.dir.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    std::env::remove_var("MDXCONF_SSH_REKEY_BYTES");
    sequential_then_concurrent(c.clone(), &dir, 30, false).await;
    c.close().await;
    let log = std::fs::read_to_string(&fleet.hosts[0].log_path).unwrap();
    let kexes = log.matches("SSH2_MSG_KEXINIT received").count();
    assert!(kexes > 5, "expected many key re-exchanges, sshd logged {kexes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn puts_across_server_initiated_rekeys() {
    let _env = crate::common::env_shared();
    // Same, but sshd starts the key exchanges (KEXINIT arrives while we are sending data).
    let fleet = SshdFleet::start_with(FleetOptions { extra_sshd_config: "RekeyLimit 1M\n".into(), log_level: "DEBUG1".into(), ..Default::default() }).unwrap();
    let dir = fleet.dir.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    sequential_then_concurrent(c.clone(), &dir, 30, false).await;
    c.close().await;
    let log = std::fs::read_to_string(&fleet.hosts[0].log_path).unwrap();
    let kexes = log.matches("SSH2_MSG_KEXINIT sent").count();
    assert!(kexes > 5, "expected many key re-exchanges started by sshd, it logged {kexes}");
}
