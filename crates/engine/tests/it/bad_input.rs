//! Bad input: one error naming file:line:col, exit code 2, and no host touched (a task before the
//! error would have written a file).
use crate::common;
use common::*;

const FIRST_TASK: &str = "    - name: would write\n      copy: {content: x, dest: \"{{ work }}/{{ inventory_hostname }}-written\"}\n";

fn play(extra_tasks: &str) -> String {
    format!("- hosts: web\n  gather_facts: false\n  tasks:\n{FIRST_TASK}{extra_tasks}")
}

/// Run and check: exit 2, stderr names `file:line:col` (and `needle`), nothing written.
fn expect_error(p: &Project, file: &str, line: usize, col: Option<usize>, needle: &str) {
    let (code, out, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 2, "stdout:\n{out}\nstderr:\n{err}");
    let full = p.path(file);
    let loc = match col {
        Some(c) => format!("{}:{line}:{c}", full.display()),
        None => format!("{}:{line}:", full.display()),
    };
    assert!(err.contains(&loc), "expected `{loc}` in:\n{err}");
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
    assert!(!out.contains("TASK ["), "a task ran:\n{out}");
    assert!(!p.path("hosts").exists(), "a host was touched");
}

#[test]
fn playbook_yaml_syntax_error() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &format!("{}    - name: broken\n      copy: {{content: x, dest: [unclosed\n", play("")));
    let (code, _, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{}:", p.path("site.yml").display())), "{err}");
    assert!(!p.path("hosts").exists());
}

#[test]
fn unknown_module_in_role() {
    let p = Project::local(&["h1"]);
    p.write("roles/r/tasks/main.yml", "- name: ok\n  debug: msg=hi\n- name: typo\n  copyy:\n    dest: /tmp/x\n");
    p.write("site.yml", &format!("{}  roles: [r]\n", play("").replace("  tasks:\n", "  post_tasks:\n")));
    expect_error(&p, "roles/r/tasks/main.yml", 4, Some(3), "`copyy`");
}

#[test]
fn template_file_syntax_error() {
    let p = Project::local(&["h1"]);
    p.write("roles/r/templates/conf.j2", "line one\n{% if x %}\nno endif\n");
    p.write("roles/r/tasks/main.yml", "- template: {src: conf.j2, dest: /tmp/never}\n");
    p.write("site.yml", &format!("{}  roles: [r]\n", play("").replace("  tasks:\n", "  post_tasks:\n")));
    let (code, _, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 2);
    let f = p.path("roles/r/templates/conf.j2").display().to_string();
    assert!(err.contains(&format!("{f}:")), "{err}");
    assert!(err.contains("syntax error"), "{err}");
    assert!(!p.path("hosts").exists());
}

#[test]
fn template_string_syntax_error() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &play("    - name: bad expr\n      debug:\n        msg: \"value {{ foo | }}\"\n"));
    expect_error(&p, "site.yml", 8, None, "syntax error");
}

#[test]
fn bad_condition_and_missing_arg() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &play("    - name: bad when\n      debug: msg=x\n      when: a ==\n"));
    expect_error(&p, "site.yml", 8, None, "syntax error");
    p.write("site.yml", &play("    - name: no dest\n      copy:\n        content: x\n"));
    expect_error(&p, "site.yml", 7, Some(7), "dest");
}

#[test]
fn missing_role_and_unknown_play_key() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &format!("{}  roles: [does_not_exist]\n", play("")));
    expect_error(&p, "site.yml", 6, Some(11), "does_not_exist");
    p.write("site.yml", "- hosts: web\n  taks: []\n");
    expect_error(&p, "site.yml", 2, Some(3), "unknown play keyword `taks`");
}

#[test]
fn malformed_inventory() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &play(""));
    std::fs::write(&p.inventory, "[web\nh1 ansible_connection=local\n").unwrap();
    let (code, _, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{}:1:", p.inventory.display())), "{err}");
    assert!(!p.path("hosts").exists());
}

#[test]
fn syntax_check_only_validates() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &play(""));
    let (code, out, _) = p.cli("site.yml", &["--syntax-check"]);
    assert_eq!(code, 0);
    assert!(out.contains("playbook:"));
    assert!(!p.path("hosts").exists());
}

#[test]
fn notify_without_handler_and_unsupported_module() {
    let p = Project::local(&["h1"]);
    p.write("site.yml", &play("    - name: notifies\n      debug: msg=x\n      notify: nobody\n"));
    expect_error(&p, "site.yml", 6, Some(7), "no handler named `nobody`");
    p.write("site.yml", &play("    - name: stats\n      set_stats: {data: {x: 1}}\n"));
    expect_error(&p, "site.yml", 7, Some(7), "not supported");
}

/// serial / max_fail_percentage / add_host / group_by: bad values are load errors with a position.
#[test]
fn play_control_keywords() {
    let p = Project::local(&["h1"]);
    let with_header = |header: &str, tasks: &str| format!("- hosts: web\n  gather_facts: false\n{header}  tasks:\n{FIRST_TASK}{tasks}");
    p.write("site.yml", &with_header("  serial: \"abc\"\n", ""));
    expect_error(&p, "site.yml", 3, Some(11), "`abc`");
    p.write("site.yml", &with_header("  serial: [1, \"20%\", abc]\n", ""));
    expect_error(&p, "site.yml", 3, Some(22), "`abc`");
    p.write("site.yml", &with_header("  serial: {a: 1}\n", ""));
    expect_error(&p, "site.yml", 3, Some(11), "serial:");
    p.write("site.yml", &with_header("  max_fail_percentage: lots\n", ""));
    expect_error(&p, "site.yml", 3, Some(24), "max_fail_percentage");
    p.write("site.yml", &with_header("  any_errors_fatal: maybe\n", ""));
    expect_error(&p, "site.yml", 3, Some(21), "expected a boolean");
    p.write("site.yml", &with_header("", "    - add_host: {groups: new}\n"));
    expect_error(&p, "site.yml", 6, Some(7), "aliases: host, hostname");
    p.write("site.yml", &with_header("", "    - group_by: {parents: x}\n"));
    expect_error(&p, "site.yml", 6, Some(7), "'key'");
    p.write("site.yml", &with_header("", "    - local_action: {src: x}\n"));
    expect_error(&p, "site.yml", 6, Some(21), "`module:`");
    p.write("site.yml", &with_header("", "    - action: copyy src=a dest=b\n"));
    expect_error(&p, "site.yml", 6, Some(15), "`copyy`");
}
