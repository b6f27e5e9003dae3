//! `image schedule` with the real CLI on the shipped catalogue (images/): the units pass
//! `systemd-analyze verify`; the service's own command line, run as systemd would run it, refreshes a
//! (failing) catalogue, still writes the report, exits with the build's status, and a second run
//! while one holds the lock exits 75 at once; the CronJob passes kubernetes-validate (PyPI, installed
//! by scripts/bootstrap.sh) with --strict. Not run here: systemd as PID 1 and a cluster.
use std::path::{Path, PathBuf};
use std::process::Command;

fn pytools() -> PathBuf {
    std::env::var_os("MDXCONF_PYTOOLS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/tmp/mdxconf-pytools"))
}

fn schedule(catalogue: &Path, dir: &Path, cache: &Path, out: &Path) -> String {
    let st = Command::new(env!("CARGO_BIN_EXE_mdxconf-image"))
        .args(["image", "schedule"])
        .arg(catalogue)
        .arg("--dir")
        .arg(dir)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--output-dir")
        .arg(out)
        .args(["--kubernetes", "--keep", "2", "--on-calendar", "Sun 03:00"])
        .output()
        .unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    String::from_utf8_lossy(&st.stdout).into_owned()
}

/// The service's ExecStart= as the shell line systemd would run (its `$$` and `%%` unescaped).
fn exec_start(unit: &str) -> Vec<String> {
    let line = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("ExecStart=");
    let (head, script) = line.split_once(" /bin/sh -c '").unwrap();
    let script = script.strip_suffix('\'').unwrap().replace("$$", "$").replace("%%", "%");
    let mut argv: Vec<String> = head.split_whitespace().map(String::from).collect();
    argv.extend(["/bin/sh".into(), "-c".into(), script]);
    argv
}

#[test]
fn units_verify_the_service_line_runs_and_the_cronjob_validates() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let t = tempfile::tempdir().unwrap();
    let (units, cache, out) = (t.path().join("units"), t.path().join("cache"), t.path().join("out"));
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    // the shipped catalogue loads as one (names, bases, order) and gets units
    let printed = schedule(&repo.join("images"), &units, &cache, &out);
    assert!(printed.contains("mdxconf-catalogue.service") && printed.contains("mdxconf-catalogue.timer"), "{printed}");
    let svc = units.join("mdxconf-catalogue.service");
    let v = Command::new("systemd-analyze").arg("verify").arg(&svc).arg(units.join("mdxconf-catalogue.timer")).output().unwrap();
    let err = String::from_utf8_lossy(&v.stderr);
    assert!(v.status.success(), "systemd-analyze verify: {err}");
    assert!(!err.contains("mdxconf-catalogue"), "no complaint about our units: {err}");
    let timer = std::fs::read_to_string(units.join("mdxconf-catalogue.timer")).unwrap();
    assert!(timer.contains("OnCalendar=Sun 03:00") && timer.contains("Persistent=true") && timer.contains("Unit=mdxconf-catalogue.service"));

    // the CronJob, strictly against the Kubernetes API schema
    let kv = pytools().join("bin/kubernetes-validate");
    let k = Command::new(&kv)
        .args(["--strict", "-k", "1.30.0"])
        .arg(units.join("mdxconf-catalogue-cronjob.yaml"))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/bootstrap.sh installs it)", kv.display()));
    assert!(k.status.success(), "kubernetes-validate: {}{}", String::from_utf8_lossy(&k.stdout), String::from_utf8_lossy(&k.stderr));
    let cj = std::fs::read_to_string(units.join("mdxconf-catalogue-cronjob.yaml")).unwrap();
    assert!(cj.contains("schedule: \"0 3 * * 0\"") && cj.contains("completionMode: Indexed") && cj.contains("concurrencyPolicy: Forbid"));
    let shipped = std::fs::read_dir(repo.join("images")).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "yaml")).count();
    assert!(cj.contains(&format!("completions: {shipped}")), "one index per shipped template ({shipped})");

    // the service's line, run for real on a small catalogue whose root cannot build
    let cat = t.path().join("catalogue");
    std::fs::create_dir_all(&cat).unwrap();
    std::fs::write(cat.join("root.yaml"), "name: root\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://127.0.0.1:9/debian\ndisk_size: 2G\noutputs: [qcow2]\n").unwrap();
    std::fs::write(cat.join("over.yaml"), "name: over\nbase: root\noutputs: [qcow2]\n").unwrap();
    schedule(&cat, &units, &cache, &out);
    let argv = exec_start(&std::fs::read_to_string(&svc).unwrap());
    // another run holds the lock: this one stops at once with 75
    let lock = cache.join("catalogue.lock");
    // one process holds it (flock's own child would keep the lock after flock is killed)
    let mut holder = Command::new("sh").arg("-c").arg(format!("exec 9>'{}'; flock 9; exec sleep 30", lock.display())).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let busy = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    assert_eq!(busy.status.code(), Some(75), "a second run exits 75: {}", String::from_utf8_lossy(&busy.stderr));
    holder.kill().unwrap();
    holder.wait().unwrap();
    let run = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "the build's failure is the unit's status\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("root") && stdout.contains("failed") && stdout.contains("skipped"), "{stdout}");
    assert!(out.join("catalogue/index.html").is_file(), "the report is written after a failed build too");
}
