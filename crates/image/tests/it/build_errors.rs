//! A build that fails or is interrupted leaves nothing behind, with real QEMU guests (TCG) and the real
//! CLI binary: no QEMU (checked by pid and process group), no temporary files, no partial cache entry,
//! no output. `--on-error keep` leaves the VM running and reachable with the printed SSH command.
//! The failing images are overlays on the cached debian12-server base, so only a boot is paid for.
use crate::common;
use mdxconf_image::{build, BuildOptions, OnError};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FAIL_IMAGE: &str = "debian12-fail-test";
const SLOWFAIL_IMAGE: &str = "debian12-slowfail-test";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mdxconf-image")
}

/// Every path below the cache's directory for `name` (entries, partial dirs, `latest`).
fn cache_listing(name: &str) -> BTreeSet<PathBuf> {
    fn walk(d: &Path, out: &mut BTreeSet<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                out.insert(e.path());
                if e.path().is_dir() {
                    walk(&e.path(), out);
                }
            }
        }
    }
    let mut s = BTreeSet::new();
    walk(&common::cache_dir().join("images").join(name), &mut s);
    s
}

/// The base's disk must never be touched by a failed overlay build.
fn base_fingerprint() -> Option<(PathBuf, std::time::SystemTime, u64)> {
    let cache = mdxconf_image::image::cache::Cache::new(Some(common::cache_dir()));
    let e = cache.latest("debian12-server")?;
    let m = std::fs::metadata(e.stage()).ok()?;
    Some((e.stage(), m.modified().ok()?, m.len()))
}

/// Files and processes a build run by process `pid` could leave outside the cache: SSH control
/// sockets, port reservations, ssh clients.
fn leftovers_of(pid: u32) -> Vec<String> {
    let mut v = vec![];
    let tmp = std::env::temp_dir();
    let prefix = format!("mdxconf-ssh-{pid}-");
    for e in std::fs::read_dir(&tmp).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            v.push(format!("control socket {}", e.path().display()));
        }
    }
    if let Ok(rd) = std::fs::read_dir(tmp.join("mdxconf-ports")) {
        for e in rd.flatten() {
            if std::fs::read_to_string(e.path()).map(|s| s.trim() == pid.to_string()).unwrap_or(false) {
                v.push(format!("port lease {}", e.path().display()));
            }
        }
    }
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let cmd = String::from_utf8_lossy(&std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default()).replace('\0', " ");
        if cmd.contains(&prefix) {
            v.push(format!("process {p}: {cmd}"));
        }
    }
    v
}

/// Wait (polling) until `f` holds, up to `limit`.
fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    f()
}

/// A live (non-zombie) process in process group `pgid`. Not `kill(-pgid, 0)`: an orphaned QEMU's
/// zombie counts there, and this sandbox's pid 1 does not reap orphans.
fn group_alive(pgid: i32) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // after "(comm)": state ppid pgrp ...
        let rest: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        rest.len() > 2 && rest[0] != "Z" && rest[2] == pgid.to_string()
    })
}

fn assert_no_qemu_for(name: &str, pid_hint: Option<i32>) {
    // QEMU exits within a few seconds of SIGTERM/SIGKILL; allow for a loaded machine
    let gone = wait_until(Duration::from_secs(20), || common::qemu_pids_with(name).is_empty());
    assert!(gone, "QEMU of {name} still running: {:?}", common::qemu_pids_with(name));
    if let Some(p) = pid_hint {
        assert!(!mdxconf_image::proc::pid_is_qemu(p), "QEMU pid {p} still running");
        assert!(wait_until(Duration::from_secs(10), || !group_alive(p)), "process group {p} (QEMU's session) still has members");
    }
}

/// Start `mdxconf-image image build` on a fixture; output goes to files (pipes could fill up).
fn spawn_build(fixture: &str, extra: &[&str], logs: &Path, out: &Path) -> Child {
    Command::new(bin())
        .args(["image", "build"])
        .arg(common::fixtures().join(fixture))
        .arg("--cache-dir")
        .arg(common::cache_dir())
        .arg("--output-dir")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(logs.join("stdout")).unwrap())
        .stderr(std::fs::File::create(logs.join("stderr")).unwrap())
        .spawn()
        .expect("starting mdxconf-image")
}

/// The pid of the QEMU that a build of `name` started (waits for it; a missing base is built first).
fn wait_for_qemu(name: &str, child: &mut Child, limit: Duration) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(p) = common::qemu_pids_with(&format!("/images/{name}/")).first() {
            return *p;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!("build exited ({st}) before its QEMU started");
        }
        assert!(t.elapsed() < limit, "no QEMU for {name} after {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(st) = child.try_wait().unwrap() {
            return Some(st);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn dir_is_empty(d: &Path) -> bool {
    std::fs::read_dir(d).map(|mut r| r.next().is_none()).unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_provisioning_with_default_on_error_leaves_nothing_behind() {
    let _l = common::VM_LOCK.lock().await;
    let before = cache_listing(FAIL_IMAGE);
    let base = base_fingerprint();
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions { cache_dir: Some(common::cache_dir()), quiet: true, output_dir: Some(out.path().to_path_buf()), on_error: OnError::Abort, ..Default::default() };
    let t = Instant::now();
    let err = match build(&common::fixtures().join("debian12-fail.yaml"), &opts).await {
        Ok(r) => panic!("provisioning must fail, got a build: {:?}", r.entry),
        Err(e) => format!("{e:#}"),
    };
    eprintln!("failed build took {:.0}s: {err}", t.elapsed().as_secs_f64());
    assert!(err.contains("provisioning failed"), "{err}");
    assert!(err.contains(FAIL_IMAGE), "the error names the image: {err}");
    // the build directory is gone, the log it names is kept outside the image's cache entries
    let log = err.split("(log: ").nth(1).and_then(|r| r.split(')').next()).unwrap_or_else(|| panic!("no log path in: {err}"));
    assert!(log.starts_with(&common::cache_dir().join("logs").display().to_string()), "{log}");
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("the named log {log} is readable: {e}"));
    assert!(text.contains("build failed:") && text.contains("provisioning failed"), "{text}");
    assert_no_qemu_for(FAIL_IMAGE, None);
    assert_eq!(cache_listing(FAIL_IMAGE), before, "cache of {FAIL_IMAGE} unchanged (no partial dir, no entry, no latest)");
    assert!(dir_is_empty(out.path()), "no output written");
    let left = leftovers_of(std::process::id());
    assert!(left.is_empty(), "left behind: {left:#?}");
    // the base the overlay was built on is untouched (when it was cached before; else it was just built)
    if base.is_some() {
        assert_eq!(base_fingerprint(), base);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_error_keep_leaves_the_vm_reachable_with_the_printed_ssh_command() {
    let _l = common::VM_LOCK.lock().await;
    let logs = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut child = spawn_build("debian12-fail.yaml", &["--on-error", "keep"], logs.path(), out.path());
    let st = wait_exit(&mut child, Duration::from_secs(3600)).expect("build finished");
    let stderr = std::fs::read_to_string(logs.path().join("stderr")).unwrap();
    assert_eq!(st.code(), Some(2), "a failed build exits 2: {stderr}");
    assert!(stderr.contains("provisioning failed"), "{stderr}");

    // what the user is told: pid, SSH command, kept build directory
    let pid: i32 = stderr
        .split("VM kept running for debugging (pid ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no kept VM pid in: {stderr}"));
    let ssh_line = stderr.lines().map(str::trim).find(|l| l.starts_with("ssh -p ")).unwrap_or_else(|| panic!("no ssh command in: {stderr}")).to_string();
    let kept_dir = PathBuf::from(stderr.split("build directory kept: ").nth(1).and_then(|s| s.lines().next()).unwrap_or_else(|| panic!("no kept dir in: {stderr}")).trim());
    let result = std::panic::catch_unwind(|| {
        assert!(mdxconf_image::proc::pid_is_qemu(pid), "the kept QEMU (pid {pid}) is running after mdxconf exited");
        assert!(kept_dir.join("stage.qcow2").exists(), "kept build dir has the disk: {}", kept_dir.display());
        // the printed command, as a user would type it (BatchMode only so a mistake cannot hang the test)
        let mut words: Vec<&str> = ssh_line.split_whitespace().collect();
        let prog = words.remove(0);
        let o = Command::new(prog).args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=60"]).args(&words).arg("cat /etc/mdxconf-fail-test").stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "printed ssh command failed: {ssh_line}\n{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "provisioning reached the failing step");
    });
    // stop it the way the message says (`kill PID`), whatever the checks above found
    assert!(stderr.contains(&format!("kill {pid}")), "{stderr}");
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let stopped = wait_until(Duration::from_secs(30), || !mdxconf_image::proc::pid_is_qemu(pid));
    let _ = std::fs::remove_dir_all(&kept_dir);
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
    assert!(stopped, "kept QEMU {pid} did not stop on SIGTERM");
    assert!(wait_until(Duration::from_secs(10), || !group_alive(pid)), "QEMU's process group {pid} still has members");
    let cache = mdxconf_image::image::cache::Cache::new(Some(common::cache_dir()));
    assert!(cache.latest(FAIL_IMAGE).is_none(), "a failed build never becomes `latest`");
    assert!(dir_is_empty(out.path()), "no output written");
}

/// Interrupt a CLI build with `sig` once `ready` holds, and check everything is cleaned up.
fn interrupt_and_check(fixture: &str, name: &str, sig: i32, what: &str, ready: impl Fn(&Path) -> bool) {
    let before = cache_listing(name);
    let base = base_fingerprint();
    let logs = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut child = spawn_build(fixture, &[], logs.path(), out.path());
    let qemu = wait_for_qemu(name, &mut child, Duration::from_secs(3600));
    let partial: Vec<PathBuf> =
        std::fs::read_dir(common::cache_dir().join("images").join(name)).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "partial")).collect();
    assert_eq!(partial.len(), 1, "one partial build dir: {partial:?}");
    let partial = partial[0].clone();
    assert!(wait_until(Duration::from_secs(1800), || ready(&partial) || child.try_wait().unwrap().is_some()), "build never reached: {what}");
    assert!(child.try_wait().unwrap().is_none(), "build ended before it could be interrupted {what}");
    let t = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let st = wait_exit(&mut child, Duration::from_secs(60));
    let took = t.elapsed();
    let stderr = std::fs::read_to_string(logs.path().join("stderr")).unwrap();
    let Some(st) = st else {
        let _ = child.kill();
        panic!("build did not exit within 60 s of signal {sig} {what}:\n{stderr}");
    };
    eprintln!("signal {sig} {what}: exited {st} after {:.1}s", took.as_secs_f64());
    assert_eq!(st.code(), Some(2), "interrupted build exits non-zero (2): {stderr}");
    assert!(stderr.contains("interrupted") || stderr.contains("terminated"), "{stderr}");
    assert!(took < Duration::from_secs(30), "exit took {took:?}");
    assert_no_qemu_for(name, Some(qemu));
    assert!(!partial.exists(), "partial build dir removed: {}", partial.display());
    assert_eq!(cache_listing(name), before, "cache of {name} unchanged");
    if base.is_some() {
        assert_eq!(base_fingerprint(), base, "base untouched");
    }
    assert!(dir_is_empty(out.path()), "no output written");
    let pid = child.id();
    // an ssh connection multiplexer may need a moment to notice the guest is gone
    let clean = wait_until(Duration::from_secs(20), || leftovers_of(pid).is_empty());
    assert!(clean, "left behind: {:#?}", leftovers_of(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_vm_boots_stops_qemu_and_removes_temp_files() {
    let _l = common::VM_LOCK.lock().await;
    // the serial log growing means the guest is booting
    interrupt_and_check("debian12-fail.yaml", FAIL_IMAGE, libc::SIGINT, "while booting", |dir| {
        std::fs::metadata(dir.join("build.serial.log")).map(|m| m.len() > 0).unwrap_or(false)
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_provisioning_stops_qemu_and_removes_temp_files() {
    let _l = common::VM_LOCK.lock().await;
    // the build writes its playbook when provisioning starts; the failing step then sleeps 900 s
    interrupt_and_check("debian12-slowfail.yaml", SLOWFAIL_IMAGE, libc::SIGTERM, "while provisioning", |dir| {
        std::fs::metadata(dir.join("provision.yml")).map(|m| m.modified().unwrap().elapsed().unwrap_or_default() > Duration::from_secs(5)).unwrap_or(false)
    });
}
