//! Issue 16.10: a run interrupted by SIGINT/SIGTERM stops starting tasks, lets the running one finish,
//! prints its recap and writes the retry file; a second signal exits at once. Stage/temp files that a
//! killed write left beside a destination are removed by a later write.
use crate::common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PLAY: &str = r#"
- hosts: web
  gather_facts: false
  tasks:
    - name: slow
      command: sleep 4
    - name: after
      copy: {content: x, dest: "{{ work }}/after-{{ inventory_hostname }}"}
"#;

fn start(p: &Project) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
        .arg(p.path("site.yml"))
        .arg("-i")
        .arg(&p.inventory)
        .env("MDXCONF_RETRY_DIR", p.dir.path())
        .env("HOME", p.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child, sig: &str) {
    assert!(Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap().success());
}

#[test]
fn first_signal_finishes_running_tasks_then_recap_and_retry() {
    let p = Project::local(&["h1", "h2"]);
    p.write("site.yml", PLAY);
    let child = start(&p);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(99), "ansible-playbook's code for an interrupted run\n{stdout}\n{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(stdout.contains("changed: [h1]") && stdout.contains("changed: [h2]"), "the running task finished: {stdout}");
    assert!(stdout.contains("PLAY RECAP"), "{stdout}");
    assert!(!stdout.contains("TASK [after]"), "no task started after the signal: {stdout}");
    assert!(!p.path("hosts/after-h1").exists());
    let retry = std::fs::read_to_string(p.path("site.retry")).expect("retry file written");
    assert_eq!(retry.lines().collect::<Vec<_>>(), vec!["h1", "h2"], "unfinished hosts are retried");
}

#[test]
fn second_signal_exits_at_once() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", PLAY);
    let child = start(&p);
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(t0.elapsed() < Duration::from_secs(2), "did not wait for the running task: {:?}", t0.elapsed());
}

#[test]
fn stage_files_of_a_killed_write_are_removed_later() {
    let p = Project::local(&["h1"]);
    let dir = p.path("dest");
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join(".mdxconf-stage.0123456789ab");
    let fresh = dir.join(".mdxconf-stage.ba9876543210");
    for f in [&old, &fresh] {
        std::fs::write(f, "partial").unwrap();
    }
    assert!(Command::new("touch").args(["-d", "20 minutes ago"]).arg(&old).status().unwrap().success());
    p.write("site.yml", &format!("- hosts: web\n  gather_facts: false\n  tasks:\n    - copy: {{content: x, dest: {}/file}}\n", dir.display()));
    let (code, out, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!old.exists(), "a stage file of a killed run is gone");
    assert!(fresh.exists(), "a recent one (a write in flight) is left alone");
}
