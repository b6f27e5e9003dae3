//! find, getent, tempfile, assemble, script on the local connection in per-test temp dirs.
use crate::support::modules_support::Host;
use serde_json::{json, Value};
use std::fs;

fn paths(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = r["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn find_filters_a_real_tree() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::create_dir_all(root.join("sub/deeper")).unwrap();
    fs::create_dir_all(root.join(".hid")).unwrap();
    fs::write(root.join("a.conf"), "key=1\n").unwrap();
    fs::write(root.join("b.conf"), "other\nkey=2\n").unwrap();
    fs::write(root.join("big.log"), vec![b'x'; 5000]).unwrap();
    fs::write(root.join(".dot.conf"), "key=3\n").unwrap();
    fs::write(root.join("sub/c.conf"), "x key=4\n").unwrap();
    fs::write(root.join("sub/deeper/d.conf"), "key=5\n").unwrap();
    fs::write(root.join(".hid/e.conf"), "key=6\n").unwrap();
    std::os::unix::fs::symlink("a.conf", root.join("link.conf")).unwrap();
    let p = root.to_str().unwrap();
    let at = |s: &str| format!("{p}/{s}");

    let r = h.ok("find", json!({"paths": p, "patterns": "*.conf"}), false).await;
    assert!(!r.changed);
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("a.conf"), at("b.conf")]);
    assert_eq!(r.data["examined"], 7, "every top-level entry is examined");
    let f0 = &r.data["files"][0];
    assert_eq!(f0["isreg"], true);
    assert!(f0["mtime"].as_f64().unwrap() > 1.0e9 && f0["pw_name"].is_string());

    // recurse: files in hidden directories are found (as Ansible's os.walk does), hidden names are not
    let r = h.ok("find", json!({"paths": p, "patterns": "*.conf", "recurse": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at(".hid/e.conf"), at("a.conf"), at("b.conf"), at("sub/c.conf"), at("sub/deeper/d.conf")]);
    let r = h.ok("find", json!({"paths": p, "patterns": "*.conf", "recurse": true, "depth": 2, "hidden": true, "excludes": "e*"}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at(".dot.conf"), at("a.conf"), at("b.conf"), at("sub/c.conf")]);

    // contains: re.match per line, or search in the whole file
    let r = h.ok("find", json!({"paths": p, "contains": "key=", "recurse": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at(".hid/e.conf"), at("a.conf"), at("b.conf"), at("sub/deeper/d.conf")]);
    let r = h.ok("find", json!({"paths": at("sub"), "contains": "key=4", "read_whole_file": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("sub/c.conf")]);

    // size, age, checksum, types
    let r = h.ok("find", json!({"paths": p, "size": "4k"}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("big.log")]);
    let r = h.ok("find", json!({"paths": p, "age": "1d"}), false).await;
    assert_eq!(r.data["matched"], 0, "nothing is a day old");
    let r = h.ok("find", json!({"paths": p, "age": "-1h", "patterns": "a.conf", "get_checksum": true}), false).await;
    assert_eq!(r.data["files"][0]["checksum"], sha1_of(b"key=1\n"));
    let r = h.ok("find", json!({"paths": p, "file_type": "link"}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("link.conf")]);
    let r = h.ok("find", json!({"paths": p, "file_type": "directory", "recurse": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("sub"), at("sub/deeper")]);
    let r = h.ok("find", json!({"paths": p, "patterns": ["b", "a\\."], "use_regex": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("a.conf"), at("b.conf"), at("big.log")]);

    // follow: a linked directory is walked; links stay links (lstat, as Ansible), files behind them are found
    let other = tempfile::tempdir().unwrap();
    fs::write(other.path().join("z.conf"), "z\n").unwrap();
    std::os::unix::fs::symlink(other.path(), root.join("ln")).unwrap();
    let r = h.ok("find", json!({"paths": p, "patterns": "z.conf", "recurse": true}), false).await;
    assert_eq!(r.data["matched"], 0, "without follow the linked directory is not entered");
    let r = h.ok("find", json!({"paths": p, "patterns": "z.conf", "recurse": true, "follow": true, "get_checksum": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("ln/z.conf")]);
    assert_eq!(r.data["files"][0]["checksum"], sha1_of(b"z\n"));
    let r = h.ok("find", json!({"paths": p, "file_type": "link", "follow": true}), false).await;
    assert_eq!(paths(&Value::Object(r.data.clone())), vec![at("link.conf"), at("ln")]);
    let l = r.data["files"].as_array().unwrap().iter().find(|f| f["path"] == at("link.conf")).unwrap();
    assert_eq!((l["islnk"].clone(), l["size"].clone(), l["mode"].clone()), (json!(true), json!(6), json!("0777")));
    let r = h.ok("find", json!({"paths": p, "patterns": "link.conf", "follow": true}), false).await;
    assert_eq!(r.data["matched"], 0, "a link to a file is no regular file (lstat)");

    // a path that is no directory is skipped, not failed; check mode is the same run
    let r = h.ok("find", json!({"paths": [p, at("nope")]}), true).await;
    assert!(r.data["skipped_paths"].as_object().unwrap().contains_key(&at("nope")));
    assert!(r.msg.contains("Not all paths examined"));
}

fn sha1_of(b: &[u8]) -> String {
    use std::io::Write;
    let mut c = std::process::Command::new("sha1sum").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    c.stdin.take().unwrap().write_all(b).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn getent_passwd_root_and_a_missing_key() {
    let h = Host::local();
    let r = h.ok("getent", json!({"database": "passwd", "key": "root"}), false).await;
    assert!(!r.changed);
    assert_eq!(r.data["ansible_facts"]["getent_passwd"]["root"][1], "0");
    assert_eq!(r.data["ansible_facts"]["getent_passwd"]["root"][4], "/root");
    let r = h.ok("getent", json!({"database": "group"}), true).await;
    assert!(r.data["ansible_facts"]["getent_group"]["root"].is_array());
    let r = h.run("getent", json!({"database": "passwd", "key": "no-such-user-mdxconf"}), false).await;
    assert!(r.failed && r.msg.contains("could not be found"), "{}", r.msg);
    let r = h.ok("getent", json!({"database": "passwd", "key": "no-such-user-mdxconf", "fail_key": false}), false).await;
    assert!(r.data["ansible_facts"]["getent_passwd"]["no-such-user-mdxconf"].is_null());
}

#[tokio::test]
async fn tempfile_creates_then_stat_sees_it() {
    use std::os::unix::fs::PermissionsExt;
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let r = h.ok("tempfile", json!({"path": d.path(), "suffix": ".txt"}), false).await;
    assert!(r.changed);
    let p = r.data["path"].as_str().unwrap().to_string();
    assert!(p.starts_with(&format!("{}/ansible.", d.path().display())) && p.ends_with(".txt"), "{p}");
    assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(r.data["mode"], "0600");
    let st = h.ok("stat", json!({"path": p}), false).await;
    assert_eq!(st.data["stat"]["isreg"], true);
    let r = h.ok("tempfile", json!({"path": d.path(), "state": "directory", "prefix": "b."}), false).await;
    let p = r.data["path"].as_str().unwrap();
    assert!(fs::metadata(p).unwrap().is_dir());
    assert_eq!(fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o700);
    let r = h.run("tempfile", json!({"path": d.path().join("missing")}), false).await;
    assert!(r.failed && r.msg.contains("No such file or directory"), "{}", r.msg);
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
    // no check-mode support in Ansible: skipped, nothing created
    let r = h.run("tempfile", json!({"path": d.path()}), true).await;
    assert!(r.skipped && !r.changed && r.msg.contains("does not support check mode"), "{}", r.msg);
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
}

#[tokio::test]
async fn assemble_converges_and_check_mode_skips_a_change() {
    use std::os::unix::fs::PermissionsExt;
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let frags = d.path().join("app.d");
    fs::create_dir(&frags).unwrap();
    fs::write(frags.join("10-b"), "b=2").unwrap();
    fs::write(frags.join("01-a"), "a=1\n").unwrap();
    fs::write(frags.join(".hidden"), "h=0\n").unwrap();
    fs::create_dir(frags.join("sub")).unwrap();
    let dest = d.path().join("app.conf");
    let args = json!({"src": frags, "dest": dest, "delimiter": "#", "ignore_hidden": true, "mode": "0640"});
    // check mode: Ansible's assemble has no check-mode support, a change is skipped and nothing is written
    let r = h.run("assemble", args.clone(), true).await;
    assert!(r.skipped && !r.changed && !dest.exists(), "{r:?}");
    let r = h.ok("assemble", args.clone(), false).await;
    assert!(r.changed);
    assert_eq!(r.diff[0].before, "");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "a=1\n#\nb=2");
    assert_eq!(fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o640);
    // a second run, and check mode on a converged file, change nothing
    let r = h.ok("assemble", args.clone(), false).await;
    assert!(!r.changed, "{r:?}");
    let r = h.run("assemble", args.clone(), true).await;
    assert!(!r.changed && !r.skipped);
    // a new fragment: the diff shows it
    fs::write(frags.join("05-m"), "m=3\n").unwrap();
    let r = h.ok("assemble", args.clone(), false).await;
    assert!(r.changed);
    assert_eq!(r.diff[0].before, "a=1\n#\nb=2");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "a=1\n#\nm=3\n#\nb=2");
    // controller fragments (remote_src: false) from a role's files/
    let role = tempfile::tempdir().unwrap();
    fs::create_dir_all(role.path().join("files/parts")).unwrap();
    fs::write(role.path().join("files/parts/x"), "x\n").unwrap();
    let mut h = Host::local();
    h.search_dirs = vec![role.path().to_path_buf()];
    let dest2 = d.path().join("two.conf");
    let r = h.ok("assemble", json!({"src": "parts", "dest": dest2, "remote_src": false}), false).await;
    assert!(r.changed);
    assert_eq!(fs::read_to_string(&dest2).unwrap(), "x\n");
    let r = h.run("assemble", json!({"src": d.path().join("nope"), "dest": dest2}), false).await;
    assert!(r.failed && r.msg.contains("does not exist"), "{}", r.msg);
}

#[tokio::test]
async fn script_runs_with_arguments_and_creates() {
    let role = tempfile::tempdir().unwrap();
    fs::create_dir_all(role.path().join("files")).unwrap();
    fs::write(role.path().join("files/hello.sh"), "#!/bin/sh\necho \"hi $1|$2\"; pwd; echo err >&2; [ -t 0 ] || cat\nexit ${3:-0}\n").unwrap();
    let mut h = Host::local();
    h.search_dirs = vec![role.path().to_path_buf()];
    let d = tempfile::tempdir().unwrap();
    let r = h.ok("script", json!({"_raw_params": "hello.sh a 'b c'", "chdir": d.path()}), false).await;
    assert!(r.changed);
    assert_eq!(r.data["stdout_lines"], json!(["hi a|b c", d.path().display().to_string()]), "the script gets no stdin");
    assert_eq!(r.data["stderr"], "err\n");
    assert_eq!(r.data["rc"], 0);
    let r = h.run("script", json!({"cmd": "hello.sh a b 3"}), false).await;
    assert!(r.failed && r.data["rc"] == 3 && r.msg == "non-zero return code", "{r:?}");
    // creates: skipped when it exists; check mode predicts when it does not, skips without creates
    let done = d.path().join("done");
    let r = h.run("script", json!({"_raw_params": "hello.sh", "creates": done}), true).await;
    assert!(r.changed && !r.skipped, "{r:?}");
    let r = h.run("script", json!({"_raw_params": "hello.sh"}), true).await;
    assert!(r.skipped && r.msg.contains("Check mode is not supported"), "{r:?}");
    fs::write(&done, "").unwrap();
    let r = h.run("script", json!({"_raw_params": "hello.sh", "creates": done}), false).await;
    assert!(r.skipped && !r.changed && r.msg.contains("since"), "{r:?}");
}

/// The new modules in a role run through the CLI (free-form script with creates=, registered results).
#[test]
fn new_modules_in_a_playbook() {
    use crate::common::{read, recap_total, Project};
    let p = Project::local(&["h1"]);
    p.write("roles/more/files/mk.sh", "#!/bin/sh\nmkdir -p \"$1\" && echo made > \"$1/made\"\n");
    p.write("roles/more/files/parts/01", "a\n");
    p.write("roles/more/files/parts/02", "b\n");
    p.write(
        "roles/more/tasks/main.yml",
        r#"
- name: dir
  file: {path: "{{ work }}/h1", state: directory}
- name: run the script
  script: mk.sh {{ work }}/h1/s creates={{ work }}/h1/s/made
- name: assemble from the role
  assemble: {src: parts, dest: "{{ work }}/h1/all.conf", remote_src: false}
- name: find them
  find: {paths: "{{ work }}/h1", recurse: true, patterns: ["made", "*.conf"]}
  register: found
- name: passwd
  getent: {database: passwd, key: root}
- name: tmp
  tempfile: {path: "{{ work }}/h1", suffix: .t}
  register: t
- name: checks
  assert:
    that:
      - found.matched == 2
      - getent_passwd.root[1] == '0'
      - t.path is match('.*/ansible\..*\.t$')
"#,
    );
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  roles: [more]\n");
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(read(&p.path("hosts/h1/all.conf")), "a\nb\n");
    assert_eq!(read(&p.path("hosts/h1/s/made")), "made\n");
    assert_eq!(recap_total(&doc, "failed"), 0);
    // second run: the script is skipped by creates=, assemble is unchanged
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(crate::common::statuses(&doc, "more : run the script"), vec![("h1".into(), "skipped".into())]);
    assert_eq!(crate::common::statuses(&doc, "more : assemble from the role"), vec![("h1".into(), "ok".into())]);
}
