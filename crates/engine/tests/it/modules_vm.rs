//! Modules that need a booted Linux with systemd and a kernel of its own: service/systemd, hostname,
//! sysctl (live), modprobe, mount (/etc/fstab). They run against a disposable VM (e.g. one from
//! `mdxconf lab up`) given by the environment, and are ignored otherwise:
//!   MDXCONF_TEST_VM=user@host:port MDXCONF_TEST_VM_KEY=/path/to/key \
//!     cargo test -p mdxconf-engine --test it -- --ignored --test-threads=1 modules_vm::
//! The VM is changed (a test unit, hostname, a sysctl, the dummy module, a tmpfs in fstab): never point
//! this at a machine you care about.
use crate::support::modules_support;
use modules_support::Host;
use serde_json::json;

async fn vm() -> Host {
    let spec = std::env::var("MDXCONF_TEST_VM").expect("set MDXCONF_TEST_VM=user@host:port (a disposable VM)");
    let (user, hp) = spec.split_once('@').expect("MDXCONF_TEST_VM=user@host:port");
    let (host, port) = hp.rsplit_once(':').map(|(h, p)| (h, p.parse().expect("port"))).unwrap_or((hp, 22));
    let known = std::env::temp_dir().join(format!("mdxconf-vm-known-hosts-{}", std::process::id()));
    let t = mdxconf_transport::SshTarget {
        name: "vm".into(),
        address: Some(host.into()),
        port: Some(port),
        user: Some(user.into()),
        identity_files: std::env::var("MDXCONF_TEST_VM_KEY").ok().map(Into::into).into_iter().collect(),
        known_hosts: Some(known),
        host_key_policy: mdxconf_transport::HostKeyPolicy::AcceptNew,
        ..Default::default()
    };
    let conn = mdxconf_transport::connect_ssh(&t).await.expect("connect to the test VM");
    let mut h = Host::with_conn(conn);
    h.become_user = Some("root".into());
    h
}

#[tokio::test]
#[ignore = "needs a disposable VM: MDXCONF_TEST_VM=user@host:port"]
async fn vm_systemd_service_lifecycle() {
    let h = vm().await;
    // a unit outside /etc/systemd/system: systemd refuses to mask a unit whose file lives there
    h.ok("file", json!({"path": "/usr/local/lib/systemd/system", "state": "directory"}), false).await;
    h.ok("copy", json!({"dest": "/usr/local/lib/systemd/system/mdxconf-test.service", "content": "[Unit]\nDescription=mdxconf test\n[Service]\nExecStart=/bin/sleep 3600\nExecReload=/bin/true\n[Install]\nWantedBy=multi-user.target\n"}), false).await;
    h.converge("systemd", json!({"name": "mdxconf-test", "state": "started", "enabled": true, "daemon_reload": true})).await;
    assert_eq!(h.sh("systemctl is-active mdxconf-test").await.trim(), "active");
    assert_eq!(h.sh("systemctl is-enabled mdxconf-test").await.trim(), "enabled");
    // restarted/reloaded always change (Ansible semantics)
    assert!(h.ok("service", json!({"name": "mdxconf-test", "state": "restarted"}), false).await.changed);
    assert!(h.ok("service", json!({"name": "mdxconf-test", "state": "reloaded"}), false).await.changed);
    h.converge("service", json!({"name": "mdxconf-test", "state": "stopped", "enabled": false})).await;
    h.converge("systemd", json!({"name": "mdxconf-test", "masked": true})).await;
    h.converge("systemd", json!({"name": "mdxconf-test", "masked": false})).await;
    let r = h.run("service", json!({"name": "mdxconf-no-such-unit", "state": "started"}), false).await;
    assert!(r.failed);
    h.sh("rm -f /usr/local/lib/systemd/system/mdxconf-test.service && systemctl daemon-reload").await;
}

#[tokio::test]
#[ignore = "needs a disposable VM: MDXCONF_TEST_VM=user@host:port"]
async fn vm_hostname_sysctl_modprobe_mount() {
    let h = vm().await;
    let old = h.sh("hostname").await.trim().to_string();
    h.converge("hostname", json!({"name": "mdxconf-test-host"})).await;
    assert_eq!(h.sh("hostname").await.trim(), "mdxconf-test-host");
    assert_eq!(h.sh("cat /etc/hostname").await.trim(), "mdxconf-test-host");
    h.converge("hostname", json!({"name": old})).await;

    let f = "/etc/sysctl.d/90-mdxconf-test.conf";
    h.converge("sysctl", json!({"name": "vm.swappiness", "value": "13", "sysctl_file": f, "sysctl_set": true})).await;
    assert_eq!(h.sh("sysctl -n vm.swappiness").await.trim(), "13");
    h.converge("sysctl", json!({"name": "net.ipv4.tcp_rmem", "value": "4096 131072 6291456", "sysctl_file": f, "sysctl_set": true})).await;
    h.converge("sysctl", json!({"name": "vm.swappiness", "state": "absent", "sysctl_file": f})).await;

    h.converge("modprobe", json!({"name": "dummy", "state": "present", "persistent": "present", "params": "numdummies=1"})).await;
    assert!(h.sh("lsmod").await.contains("dummy"));
    assert_eq!(h.sh("cat /etc/modprobe.d/dummy.conf").await, "options dummy numdummies=1\n");
    h.converge("modprobe", json!({"name": "dummy", "state": "absent", "persistent": "absent"})).await;

    h.converge("mount", json!({"path": "/mnt/mdxconf-test", "src": "tmpfs", "fstype": "tmpfs", "opts": "size=1m", "state": "mounted"})).await;
    assert!(h.sh("findmnt -rn /mnt/mdxconf-test").await.contains("tmpfs"));
    assert!(h.sh("cat /etc/fstab").await.contains("tmpfs /mnt/mdxconf-test tmpfs size=1m 0 0"));
    h.converge("mount", json!({"path": "/mnt/mdxconf-test", "state": "absent"})).await;

    let r = h.ok("setup", json!({}), false).await;
    assert_eq!(r.data["ansible_facts"]["ansible_service_mgr"], "systemd");
    assert!(!r.data["ansible_facts"]["ansible_default_ipv4"]["address"].as_str().unwrap_or("").is_empty());
}
