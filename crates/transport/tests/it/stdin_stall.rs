//! A command that never reads its stdin must not hang the run: once the SSH window is full and no
//! data is accepted for MDXCONF_SSH_STALL_TIMEOUT seconds, the exec fails with a clear error and the
//! connection stays usable. (Own test binary: the timeout is read from the process environment.)
use mdxconf_testkit::SshdFleet;
use mdxconf_transport::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_that_is_never_read_fails_after_the_stall_timeout() {
    let _env = crate::common::env_exclusive(&["MDXCONF_SSH_STALL_TIMEOUT"]);
    std::env::set_var("MDXCONF_SSH_STALL_TIMEOUT", "3");
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    // 32 MiB: far more than the SSH channel window and the pipe buffers can hold
    let input = vec![b'x'; 32 << 20];
    let started = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(120), c.exec("sleep 60", Some(input))).await.expect("exec returned within 120 s");
    let took = started.elapsed();
    let err = r.expect_err("a command that never reads 32 MiB of stdin must fail").to_string();
    assert!(err.contains("stalled") && err.contains("3s"), "{err}");
    assert!(took < Duration::from_secs(50), "failed only after {took:?}, not after the 3 s stall timeout");
    // the same connection still runs commands, and input that is read still goes through
    let ok = c.exec("wc -c", Some(vec![b'y'; 4 << 20])).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), (4 << 20).to_string());
    c.close().await;
}
