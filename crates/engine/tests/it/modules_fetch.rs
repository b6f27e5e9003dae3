//! fetch over real SSH (sshd on 127.0.0.x): Ansible's dest layout, flat, idempotency by sha256,
//! --check/--diff through the CLI, missing/directory sources, byte-exact binary files.
use crate::common;
use crate::support::modules_support;
use common::*;
use mdxconf_testkit::SshdFleet;
use modules_support::Host;
use serde_json::json;
use std::fs;

const PLAYBOOK: &str = r#"
- hosts: web
  gather_facts: false
  tasks:
    - name: per-host layout
      fetch:
        src: "{{ work }}/{{ inventory_hostname }}/data.txt"
        dest: fetched
    - name: flat
      fetch: src={{ work }}/{{ inventory_hostname }}/data.txt dest=flat/{{ inventory_hostname }}.txt flat=yes
    - name: missing but allowed
      fetch: {src: "{{ work }}/nothing-here", dest: fetched, fail_on_missing: false}
"#;

#[test]
fn fetch_layout_idempotency_check_and_diff_through_the_cli() {
    let p = Project::sshd(2);
    p.write("site.yml", PLAYBOOK);
    let hosts = ["host1", "host2"];
    for h in hosts {
        fs::create_dir_all(p.host_dir(h)).unwrap();
        fs::write(p.host_dir(h).join("data.txt"), format!("data of {h}\n")).unwrap();
    }
    // Ansible's layout: dest/<inventory_hostname>/<absolute src path without the leading />.
    let per_host = |h: &str| {
        let src = p.host_dir(h).join("data.txt");
        p.path("fetched").join(h).join(src.strip_prefix("/").unwrap())
    };
    let flat = |h: &str| p.path("flat").join(format!("{h}.txt"));

    // --check --diff predicts both fetches per host and writes nothing on the controller.
    let (code, doc, err) = p.cli_json("site.yml", &["--check", "--diff"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recap_total(&doc, "changed"), 4, "{doc}");
    assert!(!p.path("fetched").exists() && !p.path("flat").exists(), "check mode wrote files");
    let text = doc.to_string();
    assert!(text.contains("data of host1\\n") && text.contains("data of host2\\n"), "diff lacks the content: {text}");

    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recap_total(&doc, "changed"), 4, "{doc}");
    for h in hosts {
        assert_eq!(read(&per_host(h)), format!("data of {h}\n"));
        assert_eq!(read(&flat(h)), format!("data of {h}\n"));
    }
    assert_eq!(by_host(&doc, "missing but allowed"), vec![("host1".into(), "ok".into()), ("host2".into(), "ok".into())]);

    // Nothing changed on the hosts: nothing changes on the controller, in check mode or not.
    for args in [&["--check", "--diff"][..], &[]] {
        let (code, doc, err) = p.cli_json("site.yml", args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(recap_total(&doc, "changed"), 0, "{args:?}: {doc}");
    }

    // One host's file changes: only its copies change, and --diff shows before and after.
    fs::write(p.host_dir("host2").join("data.txt"), "new data\n").unwrap();
    let (code, doc, err) = p.cli_json("site.yml", &["--diff"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(by_host(&doc, "per-host layout"), vec![("host1".into(), "ok".into()), ("host2".into(), "changed".into())]);
    assert_eq!(recap_total(&doc, "changed"), 2, "{doc}");
    let text = doc.to_string();
    assert!(text.contains("data of host2\\n") && text.contains("new data\\n"), "{text}");
    assert_eq!(read(&per_host("host2")), "new data\n");
    assert_eq!(read(&per_host("host1")), "data of host1\n");
    // No temp files left next to the fetched ones.
    let names: Vec<String> = fs::read_dir(p.path("flat")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A missing source fails the host by default (the other host finishes).
    fs::remove_file(p.host_dir("host1").join("data.txt")).unwrap();
    let (code, doc, _) = p.cli_json("site.yml", &[]);
    assert_ne!(code, 0);
    assert_eq!(by_host(&doc, "per-host layout"), vec![("host1".into(), "failed".into()), ("host2".into(), "ok".into())]);
    assert!(doc.to_string().contains("does not exist, not transferring"), "{doc}");
    // The earlier copy is left alone.
    assert_eq!(read(&per_host("host1")), "data of host1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_binary_files_with_one_exec_when_unchanged() {
    let fleet = SshdFleet::start(1).unwrap();
    let conn = mdxconf_transport::connect_ssh(&fleet.target(0)).await.unwrap();
    let (mut h, counter) = Host::counting(conn);
    h.vars = json!({"inventory_hostname": "web-1"});
    let local = tempfile::tempdir().unwrap();
    let remote = tempfile::tempdir().unwrap();
    let src = remote.path().join("blob.bin");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();
    fs::write(&src, &bytes).unwrap();
    let dest = local.path().join("out");
    let args = json!({"src": src, "dest": format!("{}/", dest.display()), "flat": true});

    h.converge("fetch", args.clone()).await;
    let fetched = dest.join("blob.bin");
    assert!(fs::read(&fetched).unwrap() == bytes, "fetched bytes differ");
    // An unchanged file is compared by sha256 on the host: one exec, no transfer.
    let (r, execs) = h.execs_of(&counter, "fetch", args.clone(), false).await;
    assert!(!r.changed);
    assert_eq!(execs, 1);
    assert_eq!(r.data["checksum"], r.data["remote_checksum"]);
    // A local edit is repaired; the file's mode is kept.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&fetched, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&fetched, b"tampered").unwrap();
    let r = h.ok("fetch", args.clone(), false).await;
    assert!(r.changed);
    assert!(fs::read(&fetched).unwrap() == bytes);
    assert_eq!(modules_support::mode_of(&fetched), 0o600);

    // Without flat: dest/<inventory_hostname>/<src>.
    let r = h.ok("fetch", json!({"src": src, "dest": dest}), false).await;
    let layout = dest.join("web-1").join(src.strip_prefix("/").unwrap());
    assert_eq!(r.data["dest"], layout.display().to_string());
    assert!(fs::read(&layout).unwrap() == bytes);

    // Directories and missing files are refused with a clear message.
    let r = h.run("fetch", json!({"src": remote.path(), "dest": dest}), false).await;
    assert!(r.failed && r.msg.contains("is a directory"), "{}", r.msg);
    let r = h.run("fetch", json!({"src": remote.path().join("none"), "dest": dest}), false).await;
    assert!(r.failed && r.msg.contains("does not exist"), "{}", r.msg);
    // flat onto an existing directory without the trailing slash.
    let r = h.run("fetch", json!({"src": src, "dest": dest, "flat": true}), false).await;
    assert!(r.failed && r.msg.contains("is a directory"), "{}", r.msg);
}

/// A task's (host, status) pairs sorted by host: results arrive in completion order, which varies.
fn by_host(doc: &serde_json::Value, task: &str) -> Vec<(String, String)> {
    let mut v = statuses(doc, task);
    v.sort();
    v
}
