//! SSH transport against real sshd processes on loopback (mdxconf_testkit).
use crate::common;
use common::*;
use mdxconf_testkit::{FleetOptions, SshdFleet};
use mdxconf_transport::*;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_reports_rc_stdout_stderr_and_feeds_stdin() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    assert_eq!(c.host(), "host1");

    let out = run(&*c, "echo out; echo err >&2; exit 3").await;
    assert_eq!((out.rc, text(&out.stdout), text(&out.stderr)), (3, "out\n".into(), "err\n".into()));

    // stdin larger than the SSH window, echoed back: needs concurrent write and read.
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let out = c.exec("cat", Some(data.clone())).await.unwrap();
    assert_eq!(out.rc, 0);
    assert!(out.stdout == data, "cat returned {} bytes", out.stdout.len());

    // EOF is sent after stdin, so readers terminate.
    let out = c.exec("wc -c", Some(b"12345".to_vec())).await.unwrap();
    assert_eq!(text(&out.stdout).trim(), "5");
    // A command that ignores a large stdin still finishes.
    let out = c.exec("exit 0", Some(vec![b'x'; 5_000_000])).await.unwrap();
    assert_eq!(out.rc, 0);

    let out = run(&*c, "kill -TERM $$").await;
    assert_eq!(out.rc, 128 + 15);
    let out = run(&*c, "id -un").await;
    assert_eq!(text(&out.stdout).trim(), "root");
    c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_execs_share_one_connection() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50 {
        let c: Arc<dyn Connection> = c.clone();
        set.spawn(async move {
            let out = c.exec(&format!("sleep 0.2; echo {i} $SSH_CONNECTION; cat"), Some(format!("in{i}").into_bytes())).await.unwrap();
            (i, out)
        });
    }
    let mut client_ports = std::collections::HashSet::new();
    let mut n = 0;
    while let Some(r) = set.join_next().await {
        let (i, out) = r.unwrap();
        let s = text(&out.stdout);
        let f: Vec<&str> = s.split_whitespace().collect();
        assert_eq!(f[0], i.to_string());
        assert_eq!(f[5], format!("in{i}"));
        client_ports.insert(f[2].to_string());
        n += 1;
    }
    assert_eq!(n, 50);
    assert_eq!(client_ports.len(), 1, "all commands must run over one TCP connection");
    let h = &fleet.hosts[0];
    assert_eq!(my_connections_to(&format!("{}:{}", h.address, h.port)), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_unknown_accept_new_and_changed() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start_with(FleetOptions { hosts: 1, populate_known_hosts: false, ..Default::default() }).unwrap();
    let h = &fleet.hosts[0];
    let mut t = fleet.target(0);

    // Unknown host: strict by default, the error says how to fix it.
    let err = connect_ssh(&t).await.err().expect("unknown host must be rejected");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
    assert!(msg.contains(&format!("ssh-keyscan -p {} {}", h.port, h.address)), "{msg}");
    assert!(msg.contains("--accept-new-host-keys"), "{msg}");
    assert!(msg.contains(&fleet.known_hosts.display().to_string()), "{msg}");

    // accept-new learns the key, in OpenSSH's [host]:port syntax.
    t.host_key_policy = HostKeyPolicy::AcceptNew;
    let c = connect_ssh(&t).await.unwrap();
    assert_eq!(run(&*c, "echo hi").await.stdout, b"hi\n");
    let kh = std::fs::read_to_string(&fleet.known_hosts).unwrap();
    assert_eq!(kh, fleet.known_hosts_line(h));
    // ... and the learned entry now verifies under the strict policy.
    t.host_key_policy = HostKeyPolicy::Strict;
    connect_ssh(&t).await.unwrap();
    // ssh-keygen agrees the file is valid known_hosts syntax for this host.
    let found = std::process::Command::new("ssh-keygen").args(["-F", &format!("[{}]:{}", h.address, h.port), "-f"]).arg(&fleet.known_hosts).output().unwrap();
    assert!(found.status.success());

    // Changed key: record a different ed25519 key for the host on line 2.
    let other = fleet.dir.join("other_key");
    std::process::Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&other).status().unwrap();
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_pub: Vec<&str> = other_pub.split_whitespace().collect();
    std::fs::write(&fleet.known_hosts, format!("# comment line\n[{}]:{} {} {}\n", h.address, h.port, other_pub[0], other_pub[1])).unwrap();
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        t.host_key_policy = policy;
        let err = connect_ssh(&t).await.err().expect("changed key must be rejected");
        let msg = err.to_string();
        assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
        assert!(msg.contains("CHANGED"), "{msg}");
        assert!(msg.contains(&format!("{}:2", fleet.known_hosts.display())), "{msg}");
    }
    // Nothing was appended by the rejected accept-new attempt.
    assert_eq!(std::fs::read_to_string(&fleet.known_hosts).unwrap().lines().count(), 2);

    // Known only with another key type (RSA) while the server shows ed25519: OpenSSH's accept-new
    // refuses (the host is known, its key changed); so does ours, and records nothing.
    let rsa = fleet.dir.join("rsa_key");
    std::process::Command::new("ssh-keygen").args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"]).arg(&rsa).status().unwrap();
    let rsa_pub = std::fs::read_to_string(rsa.with_extension("pub")).unwrap();
    let rsa_pub: Vec<&str> = rsa_pub.split_whitespace().collect();
    std::fs::write(&fleet.known_hosts, format!("[{}]:{} {} {}\n", h.address, h.port, rsa_pub[0], rsa_pub[1])).unwrap();
    t.host_key_policy = HostKeyPolicy::AcceptNew;
    let err = connect_ssh(&t).await.err().expect("a host known with another key type must be refused by accept-new");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
    assert!(msg.contains("already known with other key types"), "{msg}");
    assert!(msg.contains(&format!("{}:1", fleet.known_hosts.display())), "{msg}");
    assert_eq!(std::fs::read_to_string(&fleet.known_hosts).unwrap().lines().count(), 1, "nothing learned");

    // Hashed entries (ssh-keygen -H) are understood.
    std::fs::write(&fleet.known_hosts, fleet.known_hosts_line(h)).unwrap();
    let st = std::process::Command::new("ssh-keygen").arg("-H").arg("-f").arg(&fleet.known_hosts).output().unwrap();
    assert!(st.status.success());
    let hashed = std::fs::read_to_string(&fleet.known_hosts).unwrap();
    assert!(hashed.starts_with("|1|"), "{hashed}");
    t.host_key_policy = HostKeyPolicy::Strict;
    let c = connect_ssh(&t).await.unwrap();
    assert_eq!(run(&*c, "echo hashed").await.stdout, b"hashed\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_config_supplies_hostname_user_port_identity() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(2).unwrap();
    // The fleet's ssh_config: `Host hostN` blocks with HostName/Port/User/IdentityFile/UserKnownHostsFile.
    let c = connect_ssh(&fleet.target_via_config(1)).await.unwrap();
    let (_, _, server_ip, server_port) = ssh_connection(&*c).await;
    assert_eq!((server_ip.as_str(), server_port), (fleet.hosts[1].address.as_str(), fleet.hosts[1].port));
    assert_eq!(text(&run(&*c, "id -un").await.stdout).trim(), "root");

    // Patterns, negation, first-value-wins and %h/%r tokens in a hand-written config.
    let h = &fleet.hosts[0];
    let key_dir = fleet.dir.join("keys-127.0.0.2-root");
    std::fs::create_dir_all(&key_dir).unwrap();
    std::fs::copy(&fleet.client_key, key_dir.join("id")).unwrap();
    let cfg = fleet.dir.join("handwritten_config");
    std::fs::write(
        &cfg,
        format!(
            "Host web-* !web-blocked\n    HostName {addr}\n    Port {port}\n\nHost web-blocked\n    HostName 127.0.0.254\n    Port 1\n\n\
             Host *\n    User root\n    User nobody\n    IdentityFile {dir}/keys-%h-%r/id\n    UserKnownHostsFile {kh}\n    ConnectTimeout 5\n",
            addr = h.address,
            port = h.port,
            dir = fleet.dir.display(),
            kh = fleet.known_hosts.display()
        ),
    )
    .unwrap();
    let t = SshTarget { name: "web-01".into(), ssh_config: Some(cfg.clone()), ..Default::default() };
    let c = connect_ssh(&t).await.unwrap();
    let (_, _, ip, port) = ssh_connection(&*c).await;
    assert_eq!((ip.as_str(), port), (h.address.as_str(), h.port));
    // Inventory values override ssh_config: the port from the target wins over the (bogus) config one.
    let t = SshTarget { name: "web-blocked".into(), address: None, port: Some(h.port), ssh_config: Some(cfg), ..Default::default() };
    let err = connect_ssh(&t).await.err().expect("web-blocked resolves to 127.0.0.254");
    assert!(err.to_string().contains(&format!("127.0.0.254:{}", h.port)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_reaches_the_file_and_sha256_reads_it() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub dir").join("it's.conf");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let p = path.to_str().unwrap();

    assert_eq!(remote_sha256(&*c, p, None).await.unwrap(), None);
    let content = b"line one\nline two\n".to_vec();
    let out = put(&*c, p, content.clone()).await;
    assert_eq!(out.rc, 0, "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert_eq!(remote_sha256(&*c, p, None).await.unwrap(), Some(sha256_hex(&content)));
    assert_eq!(remote_sha256(&*c, p, Some("root")).await.unwrap(), Some(sha256_hex(&content)));
    // A directory is an error, not "missing".
    assert!(remote_sha256(&*c, dir.path().to_str().unwrap(), None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_is_unreachable_quickly() {
    let _env = crate::common::env_shared();
    let port = std::net::TcpListener::bind("127.0.0.9:0").unwrap().local_addr().unwrap().port();
    let t = SshTarget {
        name: "down".into(),
        address: Some("127.0.0.9".into()),
        port: Some(port),
        ssh_config: Some("/dev/null".into()),
        connect_timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let start = Instant::now();
    let err = connect_ssh(&t).await.err().expect("nothing listens there");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&format!("127.0.0.9:{port}")), "{err}");
    // Refused connections fail at once instead of waiting for the 60 s timeout.
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_host_reconnects_when_back() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    assert_eq!(run(&*c, "echo 1").await.stdout, b"1\n");
    fleet.stop_host(0);
    // The session died with the host: exec fails as unreachable (reconnect is refused).
    let err = loop {
        match c.exec("echo 2", None).await {
            Err(e) => break e,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    fleet.start_host(0).unwrap();
    assert_eq!(run(&*c, "echo 3").await.stdout, b"3\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn become_runs_commands_as_the_user() {
    let _env = crate::common::env_shared();
    if std::process::Command::new("sudo").arg("-V").output().is_err() {
        panic!("sudo is required for this test (apt-get install sudo)");
    }
    let fleet = SshdFleet::start(1).unwrap();
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    assert_eq!(c.login_user(), Some("root"));
    let out = run(&*c, &become_command(c.login_user(), "id -un; echo $HOME", Some("nobody"))).await;
    assert_eq!(out.rc, 0, "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("nobody\n"), "{s}");

    // the file writes themselves under become (temp file, chmod, rename as the user) are the modules
    // crate's writer: crates/engine/tests/it/sshd_features.rs copy_as_another_user
    assert_eq!(remote_sha256(&*c, "/etc/passwd", Some("nobody")).await.unwrap().map(|s| s.len()), Some(64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_hits_the_connect_timeout() {
    let _env = crate::common::env_shared();
    // Accepts TCP but never speaks SSH (like a hung host): the connect timeout must fire.
    let listener = std::net::TcpListener::bind("127.0.0.9:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = SshTarget {
        name: "mute".into(),
        address: Some("127.0.0.9".into()),
        port: Some(port),
        ssh_config: Some("/dev/null".into()),
        connect_timeout: Some(Duration::from_millis(1500)),
        ..Default::default()
    };
    let start = Instant::now();
    let err = connect_ssh(&t).await.err().expect("nobody answers");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(1400));
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_or_closing_a_connection_closes_its_socket() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let h = &fleet.hosts[0];
    let dst = format!("{}:{}", h.address, h.port);
    let wait_gone = || async {
        for _ in 0..100 {
            if my_connections_to(&dst) == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    run(&*c, "true").await;
    assert_eq!(my_connections_to(&dst), 1);
    c.close().await;
    assert!(wait_gone().await, "close() must end the TCP connection");

    let c = connect_ssh(&fleet.target(0)).await.unwrap();
    run(&*c, "true").await;
    drop(c);
    assert!(wait_gone().await, "dropping the last handle must end the TCP connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_detects_a_frozen_host() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let cfg = fleet.dir.join("keepalive_config");
    let base = std::fs::read_to_string(&fleet.ssh_config).unwrap();
    std::fs::write(&cfg, format!("Host host1\n    ServerAliveInterval 1\n\n{base}")).unwrap();
    let mut t = fleet.target_via_config(0);
    t.ssh_config = Some(cfg);
    let c = connect_ssh(&t).await.unwrap();
    let (_, client_port, ip, port) = ssh_connection(&*c).await;
    // Freeze the sshd process serving our connection (like a hung VM): TCP stays open, nothing answers.
    let owner = {
        let out = Command::new("ss").args(["-Htnp", "state", "established"]).output().unwrap();
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.contains(&format!("{ip}:{port}")) && l.contains(&format!("127.0.0.1:{client_port}")) && l.contains("sshd"))
            .map(str::to_string)
            .expect("server side of our connection");
        line.split("pid=").nth(1).unwrap().split(|c: char| !c.is_ascii_digit()).next().unwrap().parse::<i32>().unwrap()
    };
    // SAFETY: signals to an sshd process this test's fleet started.
    unsafe { libc::kill(owner, libc::SIGSTOP) };
    let start = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), c.exec("echo never", None)).await;
    unsafe { libc::kill(owner, libc::SIGKILL) };
    let err = r.expect("keepalive must end the wait").expect_err("frozen host cannot answer");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_config_strict_host_key_checking_accept_new() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start_with(FleetOptions { hosts: 1, populate_known_hosts: false, ..Default::default() }).unwrap();
    let kh = fleet.dir.join("learned_known_hosts");
    let cfg = fleet.dir.join("accept_config");
    let base = std::fs::read_to_string(&fleet.ssh_config).unwrap();
    // UserKnownHostsFile from the first matching block wins over the fleet's.
    std::fs::write(&cfg, format!("Host host1\n    StrictHostKeyChecking accept-new\n    UserKnownHostsFile {}\n\n{base}", kh.display())).unwrap();
    let mut t = fleet.target_via_config(0);
    t.ssh_config = Some(cfg);
    let c = connect_ssh(&t).await.unwrap();
    assert_eq!(run(&*c, "echo learned").await.stdout, b"learned\n");
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), fleet.known_hosts_line(&fleet.hosts[0]));
    assert_eq!(std::fs::read_to_string(&fleet.known_hosts).unwrap(), "");
}
