//! A ~10-task role applied over real SSH (sshd processes on 127.0.0.x started by the test).
use crate::common;
use common::*;

const DEFAULTS: &str = r#"
demo_dir: "{{ work }}/{{ inventory_hostname }}"
demo_greeting: hello
demo_packages: [alpha, beta, gamma]
"#;

const TASKS: &str = r#"
- name: base directory
  file: {path: "{{ demo_dir }}", state: directory, mode: "0755"}
- name: config directory
  file:
    path: "{{ demo_dir }}/etc"
    state: directory
    mode: 0750
- name: motd from content
  copy: {content: "{{ demo_greeting }} from {{ inventory_hostname }}\n", dest: "{{ demo_dir }}/motd", mode: "0644"}
  notify: restart demo
- name: static file
  copy: src=banner.txt dest={{ demo_dir }}/banner.txt
- name: rendered config
  template: {src: app.conf.j2, dest: "{{ demo_dir }}/etc/app.conf", mode: "0640"}
  notify: restart demo
- name: a line
  lineinfile: {path: "{{ demo_dir }}/etc/flags", line: "enabled=yes", create: true}
- name: a block
  blockinfile: {path: "{{ demo_dir }}/hosts", block: "127.0.0.1 demo\n", create: true}
- name: one file per package
  copy: {content: "{{ item }}\n", dest: "{{ demo_dir }}/pkg-{{ item }}"}
  loop: "{{ demo_packages }}"
- name: initialise once
  command: touch {{ demo_dir }}/initialised creates={{ demo_dir }}/initialised
- name: check motd
  stat: {path: "{{ demo_dir }}/motd"}
  register: motd
- name: motd exists
  assert:
    that:
      - motd.stat.exists or ansible_check_mode
- name: read motd
  shell: "cat {{ demo_dir }}/motd"
  register: motd_text
  changed_when: false
"#;

const HANDLERS: &str = r#"
- name: restart demo
  shell: "echo restarted >> {{ demo_dir }}/restarts"
"#;

const TEMPLATE: &str = "# managed by mdxconf\nname={{ inventory_hostname }}\n{% for p in demo_packages %}\npkg={{ p }}\n{% endfor %}\n";

const PLAYBOOK: &str = r#"
- name: demo play
  hosts: web
  gather_facts: false
  roles:
    - demo
"#;

fn project(n: usize) -> Project {
    let p = Project::sshd(n);
    p.write("roles/demo/defaults/main.yml", DEFAULTS);
    p.write("roles/demo/tasks/main.yml", TASKS);
    p.write("roles/demo/handlers/main.yml", HANDLERS);
    p.write("roles/demo/templates/app.conf.j2", TEMPLATE);
    p.write("roles/demo/files/banner.txt", "welcome\n");
    p.write("site.yml", PLAYBOOK);
    p
}

const HANDLER_TASK: &str = "demo : restart demo";

fn changed_without_handler(doc: &serde_json::Value) -> usize {
    doc["results"].as_array().unwrap().iter().filter(|r| r["status"] == "changed" && r["task"] != HANDLER_TASK).count()
}

#[test]
fn role_on_three_sshd_hosts_check_then_apply_then_idempotent() {
    let p = project(3);
    let hosts = ["host1", "host2", "host3"];

    // Hosts start with their directories present but with the wrong modes (in check mode, as in
    // Ansible, copy/template cannot predict into a directory an earlier task would create).
    use std::os::unix::fs::PermissionsExt;
    for h in hosts {
        std::fs::create_dir_all(p.host_dir(h).join("etc")).unwrap();
        std::fs::set_permissions(p.host_dir(h), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(p.host_dir(h).join("etc"), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // --check: predicts changes, touches nothing.
    let (code, check, err) = p.cli_json("site.yml", &["--check"]);
    assert_eq!(code, 0, "check run failed: {err}\n{check:#}");
    let predicted = changed_without_handler(&check);
    for h in hosts {
        let entries: Vec<_> = std::fs::read_dir(p.host_dir(h)).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("etc")], "check mode wrote files");
        assert_eq!(std::fs::metadata(p.host_dir(h)).unwrap().permissions().mode() & 0o7777, 0o700, "check mode changed a mode");
    }
    // The shell handler cannot predict in check mode (Ansible skips it too).
    let handler_in_check = statuses(&check, HANDLER_TASK);
    assert_eq!(handler_in_check.len(), 3);
    assert!(handler_in_check.iter().all(|(_, s)| s == "skipped"), "{handler_in_check:?}");

    // First real run: changes exactly as predicted, handler once per host.
    let (code, first, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "first run failed: {err}\n{first:#}");
    assert_eq!(changed_without_handler(&first), predicted, "check mode prediction differs from the real run");
    assert_eq!(predicted, 3 * 9, "9 changing tasks per host expected");
    assert_eq!(recap_total(&first, "changed"), 3 * 10);
    assert_eq!(recap_total(&first, "failed"), 0);
    let handler_runs = statuses(&first, HANDLER_TASK);
    assert_eq!(handler_runs.len(), 3, "handler must run once per host although notified twice");
    for h in hosts {
        let d = p.host_dir(h);
        assert_eq!(read(&d.join("motd")), format!("hello from {h}\n"));
        assert_eq!(read(&d.join("banner.txt")), "welcome\n");
        assert_eq!(read(&d.join("etc/app.conf")), format!("# managed by mdxconf\nname={h}\npkg=alpha\npkg=beta\npkg=gamma\n"));
        assert_eq!(read(&d.join("etc/flags")), "enabled=yes\n");
        assert!(read(&d.join("hosts")).contains("127.0.0.1 demo"));
        assert_eq!(read(&d.join("pkg-beta")), "beta\n");
        assert!(d.join("initialised").exists());
        assert_eq!(read(&d.join("restarts")), "restarted\n");
        assert_eq!(std::fs::metadata(d.join("etc")).unwrap().permissions().mode() & 0o7777, 0o750);
        assert_eq!(std::fs::metadata(d.join("etc/app.conf")).unwrap().permissions().mode() & 0o7777, 0o640);
    }

    // Second run: nothing changes, handler not run.
    let (code, second, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "second run failed: {err}");
    assert_eq!(recap_total(&second, "changed"), 0, "second run changed something:\n{second:#}");
    assert!(statuses(&second, HANDLER_TASK).is_empty());
    assert_eq!(recap_total(&second, "ok"), 3 * 12);
    for h in hosts {
        assert_eq!(read(&p.host_dir(h).join("restarts")), "restarted\n");
    }

    // A changed variable: human output with --diff shows a unified diff and the recap.
    let (code, out, err) = p.cli("site.yml", &["--diff", "-e", "demo_greeting=bye", "--limit", "host2"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("-hello from host2") && out.contains("+bye from host2"), "no diff in:\n{out}");
    assert!(out.contains("TASK [demo : motd from content]"), "{out}");
    assert!(out.contains("RUNNING HANDLER [demo : restart demo]"), "{out}");
    assert!(out.contains("PLAY RECAP"), "{out}");
    let recap_line = out.lines().find(|l| l.starts_with("host2 ")).unwrap();
    assert!(recap_line.contains("changed=2"), "{recap_line}");
    assert!(!out.lines().any(|l| l.starts_with("host1 ")), "--limit host2 ran host1:\n{out}");
    assert_eq!(read(&p.host_dir("host2").join("restarts")), "restarted\nrestarted\n");
    assert_eq!(read(&p.host_dir("host1").join("motd")), "hello from host1\n");
}
