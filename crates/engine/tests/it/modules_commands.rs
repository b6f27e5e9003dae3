//! command/shell, template, unarchive, pip, wait_for, setup, ping on the local connection in temp dirs.
use crate::support::modules_support;
use modules_support::{mode_of, Host};
use serde_json::json;
use std::fs;

#[tokio::test]
async fn command_and_shell_results() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    // command does not use a shell: the pipe is an argument to echo
    let r = h.ok("command", json!({"_raw_params": "echo 'a b' | wc", "chdir": d.path()}), false).await;
    assert!(r.changed);
    assert_eq!(r.data["stdout"], "a b | wc");
    assert_eq!(r.data["rc"], 0);
    let r = h.ok("shell", json!({"cmd": "printf 'x\\ny\\n'; echo err >&2; pwd", "chdir": d.path()}), false).await;
    assert_eq!(r.data["stdout_lines"], json!(["x", "y", d.path().to_str().unwrap()]));
    assert_eq!(r.data["stderr"], "err");
    let r = h.ok("command", json!({"argv": ["cat"], "stdin": "hello"}), false).await;
    assert_eq!(r.data["stdout"], "hello");
    let r = h.run("shell", json!({"_raw_params": "exit 3"}), false).await;
    assert!(r.failed && r.data["rc"] == 3);
    // creates/removes decide; check mode predicts the same and runs nothing
    let marker = d.path().join("done");
    let args = json!({"_raw_params": format!("touch {}", marker.display()), "creates": marker});
    let c = h.ok("shell", args.clone(), true).await;
    assert!(c.changed && !marker.exists());
    assert!(h.ok("shell", args.clone(), false).await.changed);
    assert!(marker.exists());
    let again = h.ok("shell", args.clone(), false).await;
    assert!(!again.changed && again.msg.contains("exists"));
    assert!(!h.ok("shell", args, true).await.changed);
    let r = h.ok("command", json!({"_raw_params": "false", "removes": d.path().join("nothing-*")}), false).await;
    assert!(!r.changed);
    let r = h.ok("command", json!({"_raw_params": "true"}), true).await;
    assert!(r.skipped && !r.changed);
    let r = h.ok("shell", json!({"_raw_params": "echo $0", "executable": "/bin/bash"}), false).await;
    assert_eq!(r.data["stdout"], "/bin/bash");
}

#[tokio::test]
async fn template_renders_with_vars() {
    let mut h = Host::local();
    let role = tempfile::tempdir().unwrap();
    fs::create_dir(role.path().join("templates")).unwrap();
    fs::write(role.path().join("templates/exports.j2"), "{% for c in clients %}/srv {{ c }}(rw)\n{% endfor %}").unwrap();
    h.search_dirs = vec![role.path().to_path_buf()];
    h.vars = json!({"clients": ["10.0.0.1", "10.0.0.2"]});
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("exports");
    let (first, _) = h.converge("template", json!({"src": "exports.j2", "dest": dest, "mode": "0644"})).await;
    let want = "/srv 10.0.0.1(rw)\n/srv 10.0.0.2(rw)\n";
    assert_eq!(fs::read_to_string(&dest).unwrap(), want);
    assert_eq!(first.diff[0].after, want);
    assert_eq!(mode_of(&dest), 0o644);
    h.vars = json!({"clients": ["10.0.0.3"]});
    let (first, _) = h.converge("template", json!({"src": "exports.j2", "dest": dest, "mode": "0644"})).await;
    assert_eq!(first.diff[0].before, want);
    assert_eq!(fs::read_to_string(&dest).unwrap(), "/srv 10.0.0.3(rw)\n");
    // an undefined variable is an error (strict), and the destination stays as it was
    h.vars = json!({});
    let err = mdxconf_engine::modules::run_module("template", json!({"src": "exports.j2", "dest": dest}).as_object().unwrap(), &h.ctx(false)).await;
    assert!(err.is_err());
    assert_eq!(fs::read_to_string(&dest).unwrap(), "/srv 10.0.0.3(rw)\n");
}

#[tokio::test]
async fn unarchive_tar_and_zip() {
    let mut h = Host::local();
    let role = tempfile::tempdir().unwrap();
    let files = role.path().join("files");
    fs::create_dir_all(files.join("src/app/bin")).unwrap();
    fs::write(files.join("src/app/README"), "readme\n").unwrap();
    fs::write(files.join("src/app/bin/run"), "#!/bin/sh\n").unwrap();
    let st = std::process::Command::new("tar").arg("-czf").arg(files.join("app.tar.gz")).arg("-C").arg(files.join("src")).arg("app").status().unwrap();
    assert!(st.success());
    let st = std::process::Command::new("sh").arg("-c").arg(format!("cd {} && zip -qr ../app.zip app", files.join("src").display())).status().unwrap();
    assert!(st.success());
    h.search_dirs = vec![role.path().to_path_buf()];
    for archive in ["app.tar.gz", "app.zip"] {
        let d = tempfile::tempdir().unwrap();
        let (first, _) = h.converge("unarchive", json!({"src": archive, "dest": d.path()})).await;
        assert!(first.diff[0].after.contains("app/README"), "{}", first.diff[0].after);
        assert_eq!(fs::read_to_string(d.path().join("app/README")).unwrap(), "readme\n");
        // a local edit is a difference again
        fs::write(d.path().join("app/README"), "edited\n").unwrap();
        let (first, _) = h.converge("unarchive", json!({"src": archive, "dest": d.path()})).await;
        assert_eq!(first.diff[0].after, "app/README\n");
        let r = h.ok("unarchive", json!({"src": archive, "dest": d.path(), "creates": d.path().join("app")}), false).await;
        assert!(!r.changed);
    }
    let r = h.run("unarchive", json!({"src": "app.tar.gz", "dest": "/nonexistent/dir"}), false).await;
    assert!(r.failed);
}

#[tokio::test]
async fn wait_for_path_and_port() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ready");
    let p2 = p.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        fs::write(&p2, "state=up\n").unwrap();
    });
    let r = h.ok("wait_for", json!({"path": p, "search_regex": "state=up", "timeout": 30}), false).await;
    assert!(!r.changed);
    writer.join().unwrap();
    let r = h.run("wait_for", json!({"path": d.path().join("never"), "timeout": 1}), false).await;
    assert!(r.failed && r.msg.contains("Timeout"));
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    h.ok("wait_for", json!({"port": port, "host": "127.0.0.1", "timeout": 10}), false).await;
    drop(l);
    h.ok("wait_for", json!({"port": port, "host": "127.0.0.1", "state": "stopped", "timeout": 10}), false).await;
}

#[tokio::test]
async fn setup_and_ping_locally() {
    let h = Host::local();
    let r = h.ok("setup", json!({}), false).await;
    let f = &r.data["ansible_facts"];
    assert_eq!(f["ansible_system"], "Linux");
    assert!(f["ansible_memtotal_mb"].as_u64().unwrap() > 0);
    assert!(f["ansible_processor_vcpus"].as_u64().unwrap() >= 1);
    assert!(!f["ansible_hostname"].as_str().unwrap().is_empty());
    assert_eq!(f["ansible_architecture"], std::env::consts::ARCH);
    let r = h.ok("setup", json!({"filter": "ansible_distribution*"}), false).await;
    assert!(r.data["ansible_facts"].as_object().unwrap().keys().all(|k| k.starts_with("ansible_distribution")));
    let r = h.ok("ping", json!({}), false).await;
    assert_eq!(r.data["ping"], "pong");
}

#[tokio::test]
async fn pip_in_a_virtualenv() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let venv = d.path().join("venv");
    // a tiny pure-Python package from PyPI; the venv is created on first use
    let (first, _) = h.converge("pip", json!({"name": "six==1.16.0", "virtualenv": venv})).await;
    assert!(first.diff.iter().any(|x| x.path.contains("virtualenv")));
    assert!(venv.join("bin/python").exists());
    let out = std::process::Command::new(venv.join("bin/python")).args(["-c", "import six; print(six.__version__)"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.16.0");
    h.converge("pip", json!({"name": "six", "state": "absent", "virtualenv": venv})).await;
    // requirements files: pip's own dry run decides
    let req = d.path().join("requirements.txt");
    fs::write(&req, "six==1.16.0\n").unwrap();
    h.converge("pip", json!({"requirements": req, "virtualenv": venv})).await;
    let out = std::process::Command::new(venv.join("bin/python")).args(["-c", "import six; print(six.__version__)"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.16.0");
}

#[test]
fn validate_args_before_running() {
    use mdxconf_engine::modules::validate_args;
    let m = |v: serde_json::Value| v.as_object().unwrap().clone();
    assert!(validate_args("ansible.builtin.apt", &m(json!({"pkg": "x", "update-cache": true}))).is_ok());
    assert!(validate_args("user", &m(json!({"uid": 1}))).unwrap_err().contains("'name'"));
    assert!(validate_args("file", &m(json!({"path": "/x", "stat": "directory"}))).unwrap_err().contains("'stat'"));
    assert!(validate_args("get_url", &m(json!({"url": "http://x", "dest": "/x"}))).is_err());
    assert!(validate_args("set_fact", &m(json!({"anything": 1}))).is_ok());
    assert!(validate_args("nosuchmodule", &m(json!({}))).is_err());
}

/// A real tmpfs mount on the controller, with a private fstab (mount -T) so /etc/fstab is never touched.
#[tokio::test]
async fn mount_tmpfs_with_private_fstab() {
    let h = Host::local();
    let d = tempfile::tempdir().unwrap();
    let fstab = d.path().join("fstab");
    fs::write(&fstab, "# test fstab\n").unwrap();
    let mp = d.path().join("mnt");
    let args = json!({"path": mp, "src": "tmpfs", "fstype": "tmpfs", "opts": "size=1m,mode=0755", "state": "mounted", "fstab": fstab});
    let (first, _) = h.converge("mount", args).await;
    let line = format!("tmpfs {} tmpfs size=1m,mode=0755 0 0\n", mp.display());
    assert_eq!(fs::read_to_string(&fstab).unwrap(), format!("# test fstab\n{line}"));
    assert!(first.diff.iter().any(|x| x.after == format!("# test fstab\n{line}")));
    let mounted = || std::process::Command::new("findmnt").arg("-rn").arg("--mountpoint").arg(&mp).stdout(std::process::Stdio::null()).status().unwrap().success();
    assert!(mounted());
    h.converge("mount", json!({"path": mp, "state": "unmounted", "fstab": fstab})).await;
    assert!(!mounted());
    assert!(fs::read_to_string(&fstab).unwrap().contains("tmpfs"));
    h.converge("mount", json!({"path": mp, "src": "tmpfs", "fstype": "tmpfs", "state": "mounted", "fstab": fstab})).await;
    assert!(mounted());
    h.converge("mount", json!({"path": mp, "state": "absent", "fstab": fstab})).await;
    assert!(!mounted());
    assert_eq!(fs::read_to_string(&fstab).unwrap(), "# test fstab\n");
}

/// Issue 15.1: a virtual package name that an installed package provides (`awk`, provided by mawk on
/// every Debian; machine-configs asks for libnss-ldap the same way) is installed: no change, no
/// apt-get, in check mode and out of it.
#[tokio::test]
async fn apt_virtual_package_provided_is_converged() {
    let h = Host::local();
    for check in [true, false] {
        let r = h.ok("apt", json!({"name": "awk", "state": "present"}), check).await;
        assert!(!r.changed, "check={check}: {r:?}");
    }
}
