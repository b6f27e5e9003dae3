//! apt/package, user, group, apt_repository, apt_key, sysctl (file), debconf, alternatives, setup against a
//! real Debian 12 rootfs through the chroot connection. The rootfs (mmdebstrap --variant=apt bookworm) is
//! cached under /var/tmp/mdxconf-test-cache and copied per run. Needs root and Debian's mirror (apt tests).
use crate::support::modules_support;
use modules_support::{bookworm_rootfs, Host};
use serde_json::json;
use std::path::PathBuf;
use std::sync::OnceLock;
use tokio::sync::Mutex;

/// One rootfs copy per test process; tests touching it run one at a time (apt and useradd take locks).
fn root() -> &'static (PathBuf, Mutex<()>) {
    static R: OnceLock<(PathBuf, Mutex<()>)> = OnceLock::new();
    R.get_or_init(|| (bookworm_rootfs(), Mutex::new(())))
}

#[tokio::test]
async fn apt_install_remove_and_package() {
    let (dir, lock) = root();
    let _g = lock.lock().await;
    let h = Host::chroot(dir);
    // cache update alone is a change (no cache_valid_time), then fresh enough with one
    let r = h.ok("apt", json!({"update_cache": true}), false).await;
    assert!(r.changed && r.data["cache_updated"] == true);
    let r = h.ok("apt", json!({"update_cache": true, "cache_valid_time": 3600}), false).await;
    assert!(!r.changed && r.data["cache_updated"] == false);
    let (first, _) = h.converge("apt", json!({"name": "hello", "state": "present", "update_cache": true, "cache_valid_time": 3600, "install_recommends": false})).await;
    assert_eq!(first.diff[0].before, "hello: absent\n");
    assert!(h.sh("dpkg-query -W -f='${Status}' hello").await.contains("install ok installed"));
    assert_eq!(h.sh("hello").await.trim(), "Hello, world!");
    let pf = h.ok("package_facts", json!({}), false).await;
    assert_eq!(pf.data["ansible_facts"]["packages"]["hello"][0]["name"], "hello");
    assert!(pf.data["ansible_facts"]["packages"]["apt"][0]["version"].as_str().unwrap().starts_with("2.6"));
    // latest: installed from the candidate, then nothing to upgrade
    h.converge("apt", json!({"name": "sl", "state": "latest"})).await;
    // already installed under a list with another missing package: only the missing one is installed
    h.converge("package", json!({"name": ["hello", "cowsay"], "state": "present", "install_recommends": false})).await;
    let (first, _) = h.converge("apt", json!({"name": ["hello", "sl", "cowsay"], "state": "absent", "purge": true})).await;
    assert!(first.diff[0].after.contains("hello: purged"));
    assert!(!h.sh("dpkg-query -W -f='${Status}' hello 2>/dev/null || true").await.contains("ok installed"));
    // a package that does not exist fails in check mode too, and changes nothing
    let c = h.run("apt", json!({"name": "mdxconf-no-such-package"}), true).await;
    assert!(c.failed, "check mode should predict the failure");
    let r = h.run("apt", json!({"name": "mdxconf-no-such-package"}), false).await;
    assert!(r.failed);
    // a package only a source added in this run provides (debian_nonfree + nvidia_driver in --check):
    // with the cache update pending, check mode predicts the install instead of failing on the old lists
    let repo = json!({"repo": "deb http://deb.debian.org/debian bookworm non-free", "filename": "nonfree"});
    assert!(h.ok("apt_repository", repo.clone(), true).await.changed);
    let c = h.run("apt", json!({"name": "unrar", "install_recommends": false}), true).await;
    assert!(c.failed, "no update pending: the simulation's failure is the prediction");
    let c = h.ok("apt", json!({"name": "unrar", "install_recommends": false, "update_cache": true}), true).await;
    assert!(c.changed && c.data["cache_updated"] == true);
    assert!(!dir.join("etc/apt/sources.list.d/nonfree.list").exists(), "check mode wrote the source");
}

#[tokio::test]
async fn users_and_groups() {
    let (dir, lock) = root();
    let _g = lock.lock().await;
    let h = Host::chroot(dir);
    h.converge("group", json!({"name": "mdxlab", "gid": 2345})).await;
    assert!(h.sh("getent group mdxlab").await.starts_with("mdxlab:x:2345:"));
    h.converge("group", json!({"name": "mdxlab", "gid": 2346})).await;
    h.converge("group", json!({"name": "extra1", "system": true})).await;
    let (first, _) = h
        .converge("user", json!({"name": "alice", "uid": 3001, "group": "mdxlab", "groups": ["extra1"], "shell": "/bin/bash", "comment": "Alice", "password": "$6$salt$hash"}))
        .await;
    assert!(first.diff[0].after.contains("uid: 3001"));
    let pw = h.sh("getent passwd alice").await;
    assert_eq!(pw.trim(), "alice:x:3001:2346:Alice:/home/alice:/bin/bash");
    assert!(h.sh("id -Gn alice").await.contains("extra1"));
    assert!(h.sh("test -d /home/alice && echo yes").await.contains("yes"));
    assert!(h.sh("getent shadow alice").await.contains("$6$salt$hash"));
    let (first, _) = h.converge("user", json!({"name": "alice", "shell": "/bin/sh", "groups": "users", "append": true})).await;
    assert_eq!(first.diff[0].before, "shell: /bin/bash\ngroups: extra1\n");
    assert_eq!(first.diff[0].after, "shell: /bin/sh\ngroups: extra1,users\n");
    // without append the list is exact
    h.converge("user", json!({"name": "alice", "groups": ["users"]})).await;
    assert_eq!(h.sh("id -Gn alice").await.trim(), "mdxlab users");
    let r = h.run("user", json!({"name": "bob", "group": "nosuchgroup"}), true).await;
    assert!(r.failed && r.msg.contains("nosuchgroup"));
    h.converge("user", json!({"name": "alice", "state": "absent", "remove": true})).await;
    assert!(h.sh("getent passwd alice || echo gone").await.contains("gone"));
    h.converge("group", json!({"name": "mdxlab", "state": "absent"})).await;
}

#[tokio::test]
async fn apt_sources_and_keys() {
    let (dir, lock) = root();
    let _g = lock.lock().await;
    let h = Host::chroot(dir);
    let line = "deb [signed-by=/etc/apt/keyrings/example.gpg] http://deb.example.org/debian bookworm main";
    let (first, _) = h.converge("apt_repository", json!({"repo": line, "update_cache": false})).await;
    let path = dir.join("etc/apt/sources.list.d/deb_example_org_debian.list");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{line}\n"));
    assert_eq!(first.diff[0].after, format!("{line}\n"));
    // the default sources are seen as present: nothing to do
    let r = h.ok("apt_repository", json!({"repo": "deb http://deb.debian.org/debian bookworm main", "update_cache": false}), false).await;
    assert!(!r.changed);
    h.converge("apt_repository", json!({"repo": line, "state": "absent", "update_cache": false})).await;
    assert!(!path.exists());
    h.converge(
        "deb822_repository",
        json!({"name": "example", "uris": "http://deb.example.org/debian", "suites": ["bookworm"], "components": "main", "signed_by": "/etc/apt/keyrings/example.gpg"}),
    )
    .await;
    let s = std::fs::read_to_string(dir.join("etc/apt/sources.list.d/example.sources")).unwrap();
    assert!(s.contains("URIs: http://deb.example.org/debian\n") && s.contains("Suites: bookworm\n"), "{s}");
    // an armored copy of Debian's archive keyring must come out byte-identical when dearmored
    let bin = std::fs::read(dir.join("usr/share/keyrings/debian-archive-keyring.gpg")).unwrap();
    let b64 = std::process::Command::new("base64").arg(dir.join("usr/share/keyrings/debian-archive-keyring.gpg")).output().unwrap().stdout;
    let armored = format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{}-----END PGP PUBLIC KEY BLOCK-----\n", String::from_utf8(b64).unwrap());
    h.converge("apt_key", json!({"data": armored, "keyring": "/etc/apt/keyrings/debian-copy.gpg"})).await;
    assert_eq!(std::fs::read(dir.join("etc/apt/keyrings/debian-copy.gpg")).unwrap(), bin);
    h.converge("apt_key", json!({"keyring": "/etc/apt/keyrings/debian-copy.gpg", "state": "absent"})).await;
}

#[tokio::test]
async fn sysctl_file_debconf_alternatives_setup() {
    let (dir, lock) = root();
    let _g = lock.lock().await;
    let h = Host::chroot(dir);
    let f = "/etc/sysctl.d/90-mdxconf-test.conf";
    // the apt variant has no procps, hence no /etc/sysctl.d
    h.sh("mkdir -p /etc/sysctl.d").await;
    h.converge("sysctl", json!({"name": "vm.swappiness", "value": 10, "sysctl_file": f, "reload": false})).await;
    assert_eq!(std::fs::read_to_string(dir.join(&f[1..])).unwrap(), "vm.swappiness=10\n");
    let (first, _) = h.converge("sysctl", json!({"name": "vm.swappiness", "value": "20", "sysctl_file": f, "reload": false})).await;
    assert_eq!(first.diff[0].before, "vm.swappiness=10\n");
    h.converge("sysctl", json!({"name": "vm.swappiness", "state": "absent", "sysctl_file": f, "reload": false})).await;
    assert_eq!(std::fs::read_to_string(dir.join(&f[1..])).unwrap(), "");

    h.converge("debconf", json!({"name": "mdxtest", "question": "mdxtest/answer", "vtype": "string", "value": "42"})).await;
    assert!(h.sh("debconf-show mdxtest").await.contains("mdxtest/answer: 42"));

    h.converge("alternatives", json!({"name": "mdxtest", "link": "/usr/local/bin/mdxtest", "path": "/bin/true", "priority": 10})).await;
    assert_eq!(std::fs::read_link(dir.join("etc/alternatives/mdxtest")).unwrap(), PathBuf::from("/bin/true"));

    let r = h.ok("setup", json!({}), false).await;
    let f = &r.data["ansible_facts"];
    assert_eq!(f["ansible_distribution"], "Debian");
    assert_eq!(f["ansible_os_family"], "Debian");
    assert_eq!(f["ansible_distribution_major_version"], "12");
    assert_eq!(f["ansible_distribution_release"], "bookworm");
    assert_eq!(f["ansible_pkg_mgr"], "apt");

    // converged tasks cost one exec each
    let (c, counter) = Host::counting(mdxconf_transport::chroot("rootfs", dir.clone()));
    let tasks = vec![
        ("apt", json!({"name": ["apt", "dpkg"], "state": "present"})),
        ("package", json!({"name": "apt"})),
        ("user", json!({"name": "root", "shell": "/bin/bash", "groups": []})),
        ("group", json!({"name": "root", "gid": 0})),
        ("apt_repository", json!({"repo": "deb http://deb.debian.org/debian bookworm main"})),
        ("sysctl", json!({"name": "vm.swappiness", "state": "absent", "sysctl_file": f_path(), "reload": false})),
        ("debconf", json!({"name": "mdxtest", "question": "mdxtest/answer", "vtype": "string", "value": "42"})),
        ("alternatives", json!({"name": "mdxtest", "link": "/usr/local/bin/mdxtest", "path": "/bin/true", "priority": 10})),
        ("setup", json!({})),
    ];
    for (m, a) in tasks {
        let (r, n) = c.execs_of(&counter, m, a, false).await;
        assert!(!r.changed, "{m} changed");
        assert_eq!(n, 1, "{m}: a no-change run took {n} execs");
    }
}

fn f_path() -> &'static str {
    "/etc/sysctl.d/90-mdxconf-test.conf"
}

#[tokio::test]
async fn services_need_running_systemd_but_enable_works_offline() {
    let (dir, lock) = root();
    let _g = lock.lock().await;
    let h = Host::chroot(dir);
    // the apt variant has no systemd; a clear error either way, and nothing changed
    let r = h.run("service", json!({"name": "cron", "state": "started"}), false).await;
    assert!(r.failed && (r.msg.contains("systemd") || r.msg.contains("systemctl")), "{}", r.msg);
}
