//! file, copy, lineinfile, blockinfile, replace, stat, slurp on the local connection in per-test temp dirs.
use crate::support::modules_support;
use modules_support::{mode_of, Host};
use serde_json::json;
use std::fs;

#[tokio::test]
async fn copy_content_converges_with_modes_and_diff() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("a.conf");
    let ds = dest.to_str().unwrap();
    let (first, _) = h.converge("copy", json!({"content": "hello\n", "dest": ds, "mode": 420})).await;
    assert_eq!(fs::read_to_string(&dest).unwrap(), "hello\n");
    assert_eq!(mode_of(&dest), 0o644);
    assert_eq!(first.diff[0].before, "");
    assert_eq!(first.diff[0].after, "hello\n");
    // content change: diff shows before/after, mode as a string is honoured too
    let (first, _) = h.converge("copy", json!({"content": "bye\n", "dest": ds, "mode": "0600"})).await;
    assert_eq!(fs::read_to_string(&dest).unwrap(), "bye\n");
    assert_eq!(mode_of(&dest), 0o600);
    assert_eq!(first.diff[0].before, "hello\n");
    assert_eq!(first.diff[0].after, "bye\n");
    assert_eq!(first.diff[1].after, "mode: 0600\n");
    // attribute-only change, symbolic
    h.converge("copy", json!({"content": "bye\n", "dest": ds, "mode": "g+r"})).await;
    assert_eq!(mode_of(&dest), 0o640);
}

#[tokio::test]
async fn copy_check_mode_changes_nothing() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("x");
    fs::write(&dest, "old\n").unwrap();
    let r = h.ok("copy", json!({"content": "new\n", "dest": dest, "mode": "0600", "backup": true}), true).await;
    assert!(r.changed);
    assert_eq!(r.diff[0].before, "old\n");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "old\n");
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "check mode left files behind");
    let r = h.ok("copy", json!({"content": "new\n", "dest": dest, "backup": true}), false).await;
    let backup = r.data["backup_file"].as_str().unwrap();
    assert_eq!(fs::read_to_string(backup).unwrap(), "old\n");
}

#[tokio::test]
async fn copy_check_mode_predicts_a_write_into_a_missing_directory() {
    // The directory would be made by an earlier task that --check did not run (found on the role lab):
    // check mode predicts the write, as Ansible's copy/template action does; a real run still fails.
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("state").join("x");
    let r = h.ok("copy", json!({"content": "new\n", "dest": dest, "mode": "0600"}), true).await;
    assert!(r.changed);
    assert!(!d.path().join("state").exists(), "check mode made the directory");
    let r = h.run("copy", json!({"content": "new\n", "dest": dest}), false).await;
    assert!(r.failed && r.msg.contains("does not exist"), "{}", r.msg);
}

#[tokio::test]
async fn copy_validate_failure_leaves_original() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("sudoers");
    fs::write(&dest, "good\n").unwrap();
    // a real validator: grep accepts only files containing "good"
    let r = h.run("copy", json!({"content": "bad\n", "dest": dest, "validate": "grep -q good %s"}), false).await;
    assert!(r.failed, "validate should fail");
    assert!(r.msg.contains("validate"), "{}", r.msg);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "good\n");
    let names: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "temp file left behind: {names:?}");
    let r = h.ok("copy", json!({"content": "good too\n", "dest": dest, "validate": "grep -q good %s"}), false).await;
    assert!(r.changed);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "good too\n");
}

#[tokio::test]
async fn copy_src_from_role_files_into_directory() {
    let mut h = Host::local();
    let role = tempfile::tempdir().unwrap();
    fs::create_dir(role.path().join("files")).unwrap();
    fs::write(role.path().join("files/motd"), "welcome\n").unwrap();
    h.search_dirs = vec![role.path().to_path_buf()];
    let d = tempfile::tempdir().unwrap();
    let (first, _) = h.converge("copy", json!({"src": "motd", "dest": format!("{}/", d.path().display())})).await;
    assert_eq!(fs::read_to_string(d.path().join("motd")).unwrap(), "welcome\n");
    assert_eq!(first.data["dest"], json!(d.path().join("motd")));
    // missing parent directory is a clear failure
    let r = h.run("copy", json!({"src": "motd", "dest": d.path().join("no/such/file")}), false).await;
    assert!(r.failed && r.msg.contains("does not exist"), "{}", r.msg);
    // ...but a dest ending in '/' is a directory that copy creates
    h.converge("copy", json!({"src": "motd", "dest": format!("{}/new/sub/", d.path().display())})).await;
    assert_eq!(fs::read_to_string(d.path().join("new/sub/motd")).unwrap(), "welcome\n");
}

#[tokio::test]
async fn file_states() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("a/b");
    h.converge("file", json!({"path": dir, "state": "directory", "mode": "0750"})).await;
    assert_eq!(mode_of(&dir), 0o750);
    fs::write(dir.join("f"), "x").unwrap();
    h.converge("file", json!({"path": dir, "state": "directory", "mode": "u=rwX,go=rX", "recurse": true})).await;
    assert_eq!(mode_of(&dir), 0o755);
    assert_eq!(mode_of(&dir.join("f")), 0o644);
    let link = d.path().join("l");
    h.converge("file", json!({"path": link, "state": "link", "src": dir})).await;
    assert_eq!(fs::read_link(&link).unwrap(), dir);
    let t = d.path().join("t");
    let r = h.ok("file", json!({"path": t, "state": "touch", "mode": 384}), false).await;
    assert!(r.changed);
    assert_eq!(mode_of(&t), 0o600);
    h.converge("file", json!({"path": t, "mode": "0640"})).await;
    assert_eq!(mode_of(&t), 0o640);
    h.converge("file", json!({"path": d.path().join("a"), "state": "absent"})).await;
    assert!(!d.path().join("a").exists());
    let r = h.run("file", json!({"path": d.path().join("missing")}), false).await;
    assert!(r.failed);
}

#[tokio::test]
async fn lineinfile_converges() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("sshd_config");
    fs::write(&p, "Port 22\n#PermitRootLogin yes\nUsePAM yes\n").unwrap();
    let (first, _) = h.converge("lineinfile", json!({"path": p, "regexp": "^#?PermitRootLogin", "line": "PermitRootLogin no"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "Port 22\nPermitRootLogin no\nUsePAM yes\n");
    assert_eq!(first.diff[0].before, "Port 22\n#PermitRootLogin yes\nUsePAM yes\n");
    h.converge("lineinfile", json!({"path": p, "line": "Banner none", "insertafter": "^Port"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "Port 22\nBanner none\nPermitRootLogin no\nUsePAM yes\n");
    h.converge("lineinfile", json!({"path": p, "regexp": "^UsePAM", "state": "absent"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "Port 22\nBanner none\nPermitRootLogin no\n");
    let r = h.run("lineinfile", json!({"path": d.path().join("nope"), "line": "x"}), false).await;
    assert!(r.failed);
    let newf = d.path().join("newdir/new");
    h.converge("lineinfile", json!({"path": newf, "line": "x=1", "create": true, "mode": "0600"})).await;
    assert_eq!(fs::read_to_string(&newf).unwrap(), "x=1\n");
    assert_eq!(mode_of(&newf), 0o600);
    // validate failure leaves the file untouched
    let r = h.run("lineinfile", json!({"path": p, "line": "Bad", "validate": "sh -c '! grep -q Bad %s'"}), false).await;
    assert!(r.failed);
    assert_eq!(fs::read_to_string(&p).unwrap(), "Port 22\nBanner none\nPermitRootLogin no\n");
}

#[tokio::test]
async fn blockinfile_and_replace_converge() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("hosts");
    fs::write(&p, "127.0.0.1 localhost\n").unwrap();
    let (first, _) = h.converge("blockinfile", json!({"path": p, "block": "10.0.0.1 a\n10.0.0.2 b", "marker": "# {mark} lab"})).await;
    let want = "127.0.0.1 localhost\n# BEGIN lab\n10.0.0.1 a\n10.0.0.2 b\n# END lab\n";
    assert_eq!(fs::read_to_string(&p).unwrap(), want);
    assert_eq!(first.diff[0].after, want);
    h.converge("blockinfile", json!({"path": p, "block": "10.0.0.3 c", "marker": "# {mark} lab"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "127.0.0.1 localhost\n# BEGIN lab\n10.0.0.3 c\n# END lab\n");
    h.converge("replace", json!({"path": p, "regexp": r"^10\.0\.0\.(\d+) c$", "replace": r"192.168.0.\1 c"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "127.0.0.1 localhost\n# BEGIN lab\n192.168.0.3 c\n# END lab\n");
    h.converge("blockinfile", json!({"path": p, "marker": "# {mark} lab", "state": "absent"})).await;
    assert_eq!(fs::read_to_string(&p).unwrap(), "127.0.0.1 localhost\n");
}

#[tokio::test]
async fn stat_and_slurp() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f");
    fs::write(&p, "abc").unwrap();
    let r = h.ok("stat", json!({"path": p, "checksum_algorithm": "sha256"}), false).await;
    let st = &r.data["stat"];
    assert_eq!(st["exists"], true);
    assert_eq!(st["isreg"], true);
    assert_eq!(st["size"], 3);
    assert_eq!(st["checksum"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert!(!r.changed);
    let r = h.ok("stat", json!({"path": d.path().join("none")}), false).await;
    assert_eq!(r.data["stat"]["exists"], false);
    let r = h.ok("slurp", json!({"src": p}), false).await;
    assert_eq!(r.data["content"], "YWJj");
}

#[tokio::test]
async fn copy_directory_tree_and_remote_src() {
    let mut h = Host::local();
    let role = tempfile::tempdir().unwrap();
    fs::create_dir_all(role.path().join("files/conf.d/sub")).unwrap();
    fs::write(role.path().join("files/conf.d/a.conf"), "a\n").unwrap();
    fs::write(role.path().join("files/conf.d/sub/b.conf"), "b\n").unwrap();
    h.search_dirs = vec![role.path().to_path_buf()];
    let d = tempfile::tempdir().unwrap();
    // "conf.d/" copies the contents, "conf.d" the directory itself
    h.converge("copy", json!({"src": "conf.d/", "dest": d.path().join("etc"), "mode": "0600"})).await;
    assert_eq!(fs::read_to_string(d.path().join("etc/sub/b.conf")).unwrap(), "b\n");
    assert_eq!(mode_of(&d.path().join("etc/a.conf")), 0o600);
    h.converge("copy", json!({"src": "conf.d", "dest": d.path().join("etc")})).await;
    assert_eq!(fs::read_to_string(d.path().join("etc/conf.d/a.conf")).unwrap(), "a\n");
    // remote_src: both ends on the host
    h.converge("copy", json!({"src": d.path().join("etc/a.conf"), "remote_src": true, "dest": d.path().join("copied.conf")})).await;
    assert_eq!(fs::read_to_string(d.path().join("copied.conf")).unwrap(), "a\n");
    // hard link
    h.converge("file", json!({"path": d.path().join("hard"), "src": d.path().join("copied.conf"), "state": "hard"})).await;
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(d.path().join("hard")).unwrap().ino(), fs::metadata(d.path().join("copied.conf")).unwrap().ino());
}

/// A run that changes nothing costs exactly one command on the host.
#[tokio::test]
async fn no_change_runs_cost_one_exec() {
    let (mut h, counter) = Host::counting(mdxconf_transport::local("localhost"));
    let role = tempfile::tempdir().unwrap();
    fs::create_dir_all(role.path().join("templates")).unwrap();
    fs::write(role.path().join("templates/t.j2"), "x={{ x }}\n").unwrap();
    h.search_dirs = vec![role.path().to_path_buf()];
    h.vars = json!({"x": 1});
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let tasks = vec![
        ("copy", json!({"content": "a\n", "dest": p("c"), "mode": "0644"})),
        ("template", json!({"src": "t.j2", "dest": p("t"), "mode": 420})),
        ("file", json!({"path": p("dir"), "state": "directory", "mode": "0755"})),
        ("lineinfile", json!({"path": p("l"), "line": "b", "create": true})),
        ("blockinfile", json!({"path": p("l"), "block": "z"})),
        ("replace", json!({"path": p("l"), "regexp": "^b$", "replace": "b"})),
        ("stat", json!({"path": p("l")})),
        ("shell", json!({"cmd": "touch done", "chdir": d.path(), "creates": p("done")})),
    ];
    for (m, a) in &tasks {
        h.ok(m, a.clone(), false).await;
    }
    for (m, a) in &tasks {
        let (r, n) = h.execs_of(&counter, m, a.clone(), false).await;
        assert!(!r.changed, "{m} changed on the second run");
        assert_eq!(n, 1, "{m}: a no-change run took {n} execs");
    }
}

/// The jupyterlab wheelhouse copy that hung on a lab VM: a directory of 91 files from a few KB to
/// ~10 MB (odd sizes, several over the 1 MiB stdin chunk) copied over one SSH connection to a
/// real sshd with OpenSSH's default MaxSessions. A hang fails the test instead of blocking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_wheelhouse_directory_over_ssh() {
    use mdxconf_testkit::{FleetOptions, SshdFleet};
    let fleet = SshdFleet::start_with(FleetOptions { extra_sshd_config: "MaxSessions 10\n".into(), ..Default::default() }).unwrap();
    let conn = mdxconf_transport::connect_ssh(&fleet.target(0)).await.unwrap();
    let mut h = Host::with_conn(conn);
    let role = tempfile::tempdir().unwrap();
    let src = role.path().join("files/wheelhouse");
    fs::create_dir_all(&src).unwrap();
    let mut want = Vec::new();
    for i in 0..91usize {
        let len = match i % 10 {
            0 => 10 * 1024 * 1024 - 977 - i,
            4 => 1024 * 1024 + 12_345 + i,
            7 => 2 * 1024 * 1024 + 32_769 + i,
            _ => 3_000 + (i * 7919) % 300_000,
        };
        let mut x = (i as u32).wrapping_mul(2_654_435_761) | 1;
        let data: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let name = format!("pkg{i}-1.0-py3-none-any.whl");
        fs::write(src.join(&name), &data).unwrap();
        want.push((name, data));
    }
    h.search_dirs = vec![role.path().to_path_buf()];
    let dest = fleet.dir.join("srv/wheelhouse");
    let args = json!({"src": "wheelhouse/", "dest": format!("{}/", dest.display()), "mode": "0644"});
    let first = tokio::time::timeout(std::time::Duration::from_secs(600), h.ok("copy", args.clone(), false)).await.expect("copying the wheelhouse hung");
    assert!(first.changed);
    for (name, data) in &want {
        assert!(fs::read(dest.join(name)).unwrap() == *data, "{name} differs");
    }
    let again = tokio::time::timeout(std::time::Duration::from_secs(300), h.ok("copy", args, false)).await.expect("second run hung");
    assert!(!again.changed, "second run changed: {:?}", again.diff.iter().map(|d| &d.path).collect::<Vec<_>>());
}

/// Issue 15.1: copy with remote_src of a directory copies the tree, as Ansible's copy does (machine-
/// configs' mv_home_mdxuser moves /home/mdxuser so): check mode predicts, the run copies with the
/// source modes, a second run changes nothing; `src/` copies the contents only.
#[tokio::test]
async fn copy_remote_src_directory_tree() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("home/mdxuser");
    fs::create_dir_all(src.join(".ssh")).unwrap();
    fs::write(src.join(".ssh/authorized_keys"), "ssh-ed25519 AAAA x\n").unwrap();
    fs::write(src.join(".bashrc"), "export A=1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(src.join(".ssh/authorized_keys"), fs::Permissions::from_mode(0o600)).unwrap();
    let dest = d.path().join("home.local");
    fs::create_dir_all(&dest).unwrap();
    let args = json!({"src": src.to_str().unwrap(), "dest": format!("{}/", dest.display()), "remote_src": true, "mode": "preserve", "directory_mode": true});
    let predicted = h.ok("copy", args.clone(), true).await;
    assert!(predicted.changed && !dest.join("mdxuser").exists(), "check mode predicts and changes nothing");
    let r = h.ok("copy", args.clone(), false).await;
    assert!(r.changed);
    assert_eq!(fs::read_to_string(dest.join("mdxuser/.bashrc")).unwrap(), "export A=1\n");
    assert_eq!(mode_of(&dest.join("mdxuser/.ssh/authorized_keys")), 0o600);
    assert!(!h.ok("copy", args.clone(), false).await.changed, "second run converged");
    assert!(!h.ok("copy", args, true).await.changed);
    // a changed source file is copied again; `src/` puts the contents into dest
    fs::write(src.join(".bashrc"), "export A=2\n").unwrap();
    let flat = d.path().join("flat");
    let r = h.ok("copy", json!({"src": format!("{}/", src.display()), "dest": flat.to_str().unwrap(), "remote_src": true}), false).await;
    assert!(r.changed);
    assert_eq!(fs::read_to_string(flat.join(".bashrc")).unwrap(), "export A=2\n");
    assert!(flat.join(".ssh/authorized_keys").exists());
    let left: Vec<_> = fs::read_dir(flat.join(".ssh")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "no temp file left: {left:?}");
}
