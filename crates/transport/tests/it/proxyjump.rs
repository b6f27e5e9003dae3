//! ProxyJump through real sshd bastions on loopback. Every connection comes from 127.0.0.1 on
//! loopback, so "really went through the bastion" is checked by socket ownership: the TCP
//! connection the target sees ($SSH_CONNECTION) must belong to a process of the bastion's sshd.
use crate::common;
use common::*;
use mdxconf_testkit::SshdFleet;
use mdxconf_transport::*;

fn jump_spec(fleet: &SshdFleet, i: usize) -> String {
    let h = &fleet.hosts[i];
    format!("root@{}:{}", h.address, h.port)
}

/// Assert that `c`'s TCP connection to host `target` is owned by the sshd tree of host `via`.
async fn assert_via(fleet: &SshdFleet, c: &dyn Connection, target: usize, via: usize) {
    let (_, client_port, ip, port) = ssh_connection(c).await;
    let h = &fleet.hosts[target];
    assert_eq!((ip.as_str(), port), (h.address.as_str(), h.port));
    let owner = socket_owner(client_port, &format!("{ip}:{port}")).expect("socket to the target not found in ss");
    assert_ne!(owner, std::process::id(), "the controller itself connected to the target");
    let bastion = fleet.pid(via).unwrap();
    assert!(descends_from(owner, bastion), "socket owner {owner} is not under bastion sshd {bastion}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_behind_one_bastion_share_its_connection() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(3).unwrap();
    let mut conns = Vec::new();
    for i in [1, 2] {
        let mut t = fleet.target(i);
        t.proxy_jump = Some(jump_spec(&fleet, 0));
        let c = connect_ssh(&t).await.unwrap();
        assert_via(&fleet, &*c, i, 0).await;
        conns.push(c);
    }
    // One TCP connection to the bastion, none from us to the targets.
    let b = &fleet.hosts[0];
    assert_eq!(my_connections_to(&format!("{}:{}", b.address, b.port)), 1);
    for i in [1, 2] {
        let h = &fleet.hosts[i];
        assert_eq!(my_connections_to(&format!("{}:{}", h.address, h.port)), 0);
    }
    // Concurrent commands on both targets through the shared bastion.
    let (a, b) = tokio::join!(conns[0].exec("cat", Some(vec![1u8; 500_000])), conns[1].exec("cat", Some(vec![2u8; 500_000])));
    assert_eq!(a.unwrap().stdout, vec![1u8; 500_000]);
    assert_eq!(b.unwrap().stdout, vec![2u8; 500_000]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_chain_and_ssh_config_proxyjump() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(3).unwrap();
    // host1 -> host2 -> host3 given as a comma-separated chain.
    let mut t = fleet.target(2);
    t.proxy_jump = Some(format!("{},{}", jump_spec(&fleet, 0), jump_spec(&fleet, 1)));
    let c = connect_ssh(&t).await.unwrap();
    assert_via(&fleet, &*c, 2, 1).await;

    // The same chain from ssh_config: host3 has `ProxyJump host2`, host2 has `ProxyJump host1`
    // (the first hop's own ProxyJump is followed, as OpenSSH does).
    let cfg = fleet.dir.join("jump_config");
    let base = std::fs::read_to_string(&fleet.ssh_config).unwrap();
    std::fs::write(&cfg, format!("Host host3\n    ProxyJump host2\nHost host2\n    ProxyJump host1\n\n{base}")).unwrap();
    let mut t = fleet.target_via_config(2);
    t.ssh_config = Some(cfg.clone());
    let c = connect_ssh(&t).await.unwrap();
    assert_via(&fleet, &*c, 2, 1).await;
    // And host2 from that config is reached through host1.
    let mut t = fleet.target_via_config(1);
    t.ssh_config = Some(cfg);
    let c2 = connect_ssh(&t).await.unwrap();
    assert_via(&fleet, &*c2, 1, 0).await;
    // Inventory `proxy_jump: none` overrides ssh_config: direct connection.
    let mut t = fleet.target_via_config(1);
    t.ssh_config = Some(fleet.dir.join("jump_config"));
    t.proxy_jump = Some("none".into());
    let c3 = connect_ssh(&t).await.unwrap();
    let (_, client_port, ip, port) = ssh_connection(&*c3).await;
    assert_eq!(socket_owner(client_port, &format!("{ip}:{port}")), Some(std::process::id()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_through_bastion_and_dead_bastion() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(1).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.77:0").unwrap().local_addr().unwrap().port();
    let t = SshTarget {
        name: "behind".into(),
        address: Some("127.0.0.77".into()),
        port: Some(closed),
        user: Some("root".into()),
        identity_files: vec![fleet.client_key.clone()],
        known_hosts: Some(fleet.known_hosts.clone()),
        ssh_config: Some("/dev/null".into()),
        proxy_jump: Some(jump_spec(&fleet, 0)),
        ..Default::default()
    };
    let err = connect_ssh(&t).await.err().expect("target port is closed");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("cannot reach"), "{err}");

    let mut t2 = t.clone();
    t2.proxy_jump = Some(format!("root@127.0.0.77:{closed}"));
    let err = connect_ssh(&t2).await.err().expect("bastion port is closed");
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("jump host"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_target_key_behind_bastion() {
    let _env = crate::common::env_shared();
    let fleet = SshdFleet::start(2).unwrap();
    // known_hosts knows the bastion only.
    let kh = fleet.dir.join("bastion_only_known_hosts");
    std::fs::write(&kh, fleet.known_hosts_line(&fleet.hosts[0])).unwrap();
    let mut t = fleet.target(1);
    t.known_hosts = Some(kh.clone());
    t.proxy_jump = Some(jump_spec(&fleet, 0));
    let err = connect_ssh(&t).await.err().expect("target key unknown");
    assert!(matches!(err, TransportError::HostKey { .. }), "{err}");
    assert!(err.to_string().contains(&format!("ssh {} ssh-keyscan", jump_spec(&fleet, 0))), "{err}");
    t.host_key_policy = HostKeyPolicy::AcceptNew;
    let c = connect_ssh(&t).await.unwrap();
    assert_via(&fleet, &*c, 1, 0).await;
    let text = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(text, fleet.known_hosts_line(&fleet.hosts[0]) + &fleet.known_hosts_line(&fleet.hosts[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_connections_open_one_bastion_connection() {
    let _env = crate::common::env_shared();
    let fleet = std::sync::Arc::new(SshdFleet::start(13).unwrap());
    let bastion = jump_spec(&fleet, 0);
    let mut set = tokio::task::JoinSet::new();
    for i in 1..13 {
        let (fleet, bastion) = (fleet.clone(), bastion.clone());
        set.spawn(async move {
            let mut t = fleet.target(i);
            t.proxy_jump = Some(bastion);
            let c = connect_ssh(&t).await.unwrap_or_else(|e| panic!("{e}"));
            let (_, _, ip, port) = ssh_connection(&*c).await;
            assert_eq!((ip, port), (fleet.hosts[i].address.clone(), fleet.hosts[i].port));
            c
        });
    }
    let mut conns = Vec::new();
    while let Some(r) = set.join_next().await {
        conns.push(r.unwrap());
    }
    assert_eq!(conns.len(), 12);
    let b = &fleet.hosts[0];
    assert_eq!(my_connections_to(&format!("{}:{}", b.address, b.port)), 1, "12 targets, one bastion connection");
}
