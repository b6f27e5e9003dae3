//! Executor semantics on `ansible_connection=local` hosts (real commands on this machine, per-test
//! temp dirs): when/loop/register/until, block/rescue/always, tags, handlers, includes, strict
//! undefined variables, free strategy.
use crate::common;
use common::*;

const DIR: &str = "{{ work }}/{{ inventory_hostname }}";

fn pb(tasks: &str) -> String {
    format!("- hosts: web\n  gather_facts: false\n  vars:\n    dir: \"{DIR}\"\n  tasks:\n    - name: host dir\n      file: {{path: \"{{{{ dir }}}}\", state: directory}}\n{tasks}")
}

#[test]
fn when_loop_register_until() {
    let p = Project::local(&["h1", "h2"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: echo items
      command: "echo {{ item }}"
      loop: [1, 2, 3]
      register: echoes
      changed_when: false
    - name: sum
      set_fact:
        total: "{{ echoes.results | map(attribute='stdout') | map('int') | sum }}"
    - name: check sum
      assert:
        that: ["total | int == 6", "echoes.results | length == 3"]
    - name: never true
      command: "false"
      when: total | int > 100
    - name: per item when
      command: "touch {{ dir }}/item-{{ item }}"
      loop: [1, 2, 3]
      when: item != 2
    - name: dict items
      copy:
        content: "{{ item.value }}"
        dest: "{{ dir }}/{{ item.key }}"
      with_dict: {a: "1", b: "2"}
      loop_control: {label: "{{ item.key }}"}
    - name: with_items flattens
      set_fact:
        flat: "{{ (flat | default([])) + [item] }}"
      with_items: [[x, y], z]
    - name: count up
      shell: "n=$(cat {{ dir }}/counter 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ dir }}/counter; echo $n"
      register: counter
      until: counter.stdout | int >= 3
      retries: 5
      delay: 0
    - name: attempts
      assert:
        that:
          - counter.attempts == 3
          - flat == ['x', 'y', 'z']
    - name: index var
      copy:
        content: "{{ idx }}"
        dest: "{{ dir }}/idx-{{ thing }}"
      loop: [p, q]
      loop_control: {loop_var: thing, index_var: idx}
    - name: multi-line script (its lines must not be joined)
      shell: |
        for k in {{ flat | join(' ') }}; do
          echo "$k" | grep -q y || echo "$k"
        done
      args:
        chdir: "{{ dir }}"
      register: script
      changed_when: false
    - name: script output
      assert:
        that: script.stdout_lines == ['x', 'z']
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(statuses(&doc, "never true"), vec![("h1".into(), "skipped".into()), ("h2".into(), "skipped".into())]);
    for h in ["h1", "h2"] {
        let d = p.host_dir(h);
        assert!(d.join("item-1").exists() && d.join("item-3").exists() && !d.join("item-2").exists());
        assert_eq!(read(&d.join("a")), "1");
        assert_eq!(read(&d.join("b")), "2");
        assert_eq!(read(&d.join("counter")).trim(), "3");
        assert_eq!(read(&d.join("idx-q")), "1");
    }
    assert_eq!(recap_total(&doc, "failed"), 0);
}

#[test]
fn block_rescue_always() {
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: guarded
      block:
        - name: boom
          command: "false"
        - name: not reached
          file: {path: "{{ dir }}/not-reached", state: touch}
      rescue:
        - name: rescue it
          copy: {content: "{{ ansible_failed_task.name }}", dest: "{{ dir }}/rescued"}
      always:
        - name: always one
          copy: {content: "yes", dest: "{{ dir }}/always"}
    - name: after rescued block
      copy: {content: "ok", dest: "{{ dir }}/after"}
    - block:
        - name: boom again
          command: "false"
      always:
        - name: always two
          copy: {content: "yes", dest: "{{ dir }}/always2"}
    - name: never reached
      copy: {content: "x", dest: "{{ dir }}/never"}
"#),
    );
    let (code, doc, _) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "a host failed: exit code 2");
    let d = p.host_dir("h1");
    assert_eq!(read(&d.join("rescued")), "boom");
    assert!(!d.join("not-reached").exists());
    assert!(d.join("always").exists() && d.join("after").exists() && d.join("always2").exists());
    assert!(!d.join("never").exists());
    assert_eq!(doc["recap"]["h1"]["rescued"], 1);
    assert_eq!(doc["recap"]["h1"]["failed"], 1);
    // and a retry file was written for the failed host
    assert_eq!(read(&p.path("site.retry")), "h1\n");
}

#[test]
fn tags_and_skip_tags() {
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: task a
      copy: {content: a, dest: "{{ dir }}/a"}
      tags: [a]
    - name: task b
      copy: {content: b, dest: "{{ dir }}/b"}
      tags: b
    - name: untagged task
      copy: {content: u, dest: "{{ dir }}/u"}
    - name: debug only
      copy: {content: n, dest: "{{ dir }}/n"}
      tags: [never, debugonly]
    - name: tagged block
      tags: [c]
      block:
        - name: inside c
          copy: {content: c, dest: "{{ dir }}/c"}
"#)
        .replace(
            "    - name: host dir\n      file: {path: \"{{ dir }}\", state: directory}\n",
            "    - name: host dir\n      file: {path: \"{{ dir }}\", state: directory}\n      tags: [always]\n",
        ),
    );
    let files = |p: &Project| {
        let mut v: Vec<String> = std::fs::read_dir(p.host_dir("h1")).map(|r| r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()).unwrap_or_default();
        v.sort();
        v
    };
    let (code, _, err) = p.cli("site.yml", &["--tags", "a,c"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&p), vec!["a", "c"]);
    let (code, _, err) = p.cli("site.yml", &["--skip-tags", "a"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&p), vec!["a", "b", "c", "u"]);
    let (code, _, err) = p.cli("site.yml", &["-t", "debugonly"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&p), vec!["a", "b", "c", "n", "u"]);
    let (code, out, _) = p.cli("site.yml", &["--list-tasks", "--tags", "b"]);
    assert_eq!(code, 0);
    assert!(out.contains("task b") && out.contains("host dir") && !out.contains("task a"), "{out}");
    let (code, out, _) = p.cli("site.yml", &["--list-hosts"]);
    assert_eq!(code, 0);
    assert!(out.contains("hosts (1):") && out.contains("      h1"), "{out}");
}

#[test]
fn handlers_listen_flush_and_order() {
    let p = Project::local(&["h1", "h2"]);
    p.write(
        "site.yml",
        &format!(
            "{}{}",
            pb(r#"
    - name: change on h1 only
      copy: {content: "x", dest: "{{ dir }}/trigger"}
      when: inventory_hostname == 'h1'
      notify: [second, topic]
    - name: change again on h1
      copy: {content: "y", dest: "{{ dir }}/trigger2"}
      when: inventory_hostname == 'h1'
      notify: second
    - meta: flush_handlers
    - name: after flush
      shell: "cat {{ dir }}/log > {{ dir }}/seen-at-flush 2>/dev/null || true"
    - name: notify but unchanged
      command: "true"
      changed_when: false
      notify: second
"#),
            r#"  handlers:
    - name: first
      shell: "echo first >> {{ dir }}/log"
      listen: topic
    - name: second
      shell: "echo second >> {{ dir }}/log"
"#
        ),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    // once each, definition order, only where changed, before the task after flush_handlers
    assert_eq!(read(&p.host_dir("h1").join("log")), "first\nsecond\n");
    assert_eq!(read(&p.host_dir("h1").join("seen-at-flush")), "first\nsecond\n");
    assert!(!p.host_dir("h2").join("log").exists());
    assert_eq!(statuses(&doc, "second"), vec![("h1".into(), "changed".into())]);
}

#[test]
fn includes_imports_and_roles() {
    let p = Project::local(&["h1"]);
    p.write("extra.yml", "- name: included {{ what }}\n  copy: {content: \"{{ what }}\", dest: \"{{ dir }}/inc-{{ what }}\"}\n");
    p.write("static.yml", "- name: imported\n  copy: {content: s, dest: \"{{ dir }}/imported\"}\n");
    p.write("roles/r1/tasks/main.yml", "- name: r1 main\n  copy: {content: \"{{ r1_value }}\", dest: \"{{ dir }}/r1\"}\n");
    p.write("roles/r1/tasks/other.yml", "- name: r1 other\n  copy: {content: other, dest: \"{{ dir }}/r1-other\"}\n");
    p.write("roles/r1/defaults/main.yml", "r1_value: from-defaults\n");
    p.write("roles/base/tasks/main.yml", "- name: base\n  copy: {content: base, dest: \"{{ dir }}/base\"}\n");
    p.write("roles/r1/meta/main.yml", "dependencies:\n  - base\n");
    p.write(
        "site.yml",
        &pb(r#"
    - import_tasks: static.yml
    - include_tasks: extra.yml
      loop: [one, two]
      loop_control: {loop_var: what}
    - name: skipped include
      include_tasks: extra.yml
      when: false
    - include_role:
        name: r1
        vars: {r1_value: from-params}
    - import_role: {name: r1, tasks_from: other}
    - name: dynamic file name
      include_tasks: "{{ 'static' }}.yml"
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let d = p.host_dir("h1");
    assert_eq!(read(&d.join("inc-one")), "one");
    assert_eq!(read(&d.join("inc-two")), "two");
    assert_eq!(read(&d.join("r1")), "from-params");
    assert_eq!(read(&d.join("base")), "base");
    assert_eq!(read(&d.join("r1-other")), "other");
    assert!(d.join("imported").exists());
}

#[test]
fn block_when_with_magic_vars_reaches_tasks_and_include_role() {
    // Regression: a block's `when` naming `groups` is inherited by its tasks (including an
    // include_role that itself mentions no magic variable); `groups` must be defined there.
    let p = Project::local(&["h1", "h2"]);
    p.write("roles/inner/tasks/main.yml", "- name: inner\n  copy: {content: inner, dest: \"{{ dir }}/inner\"}\n");
    p.write(
        "site.yml",
        &pb(r#"
    - name: only web members
      when: inventory_hostname in groups[grp]
      vars: {grp: web}
      block:
        - name: plain task
          copy: {content: plain, dest: "{{ dir }}/plain"}
        - name: include a role
          include_role: {name: inner}
          when: true
    - name: nobody
      when: inventory_hostname not in groups['web']
      block:
        - name: skipped
          copy: {content: x, dest: "{{ dir }}/never"}
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    for h in ["h1", "h2"] {
        let d = p.host_dir(h);
        assert_eq!(read(&d.join("plain")), "plain");
        assert_eq!(read(&d.join("inner")), "inner");
        assert!(!d.join("never").exists());
    }
    assert_eq!(statuses(&doc, "skipped"), vec![("h1".into(), "skipped".into()), ("h2".into(), "skipped".into())]);
}

#[test]
fn ansible_check_mode_is_the_runs_flag_even_in_check_mode_false_tasks() {
    // Ansible semantics: `check_mode: false` runs the task for real, ansible_check_mode stays the
    // --check flag (ldap_server's sync tool relies on it; found on the role lab).
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: record the flag
      shell: "echo {{ ansible_check_mode }} > {{ work }}/flag-{{ inventory_hostname }}"
      check_mode: false
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(read(&p.path("hosts/flag-h1")).trim(), "False");
    let (code, doc, err) = p.cli_json("site.yml", &["--check"]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(read(&p.path("hosts/flag-h1")).trim(), "True");
}

#[test]
fn strict_undefined_variable_fails_with_location() {
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: uses an undefined variable
      copy:
        content: "{{ no_such_variable }}"
        dest: "{{ dir }}/never"
    - name: not reached
      copy: {content: x, dest: "{{ dir }}/after"}
"#),
    );
    let (code, doc, _) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2);
    let r = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "uses an undefined variable").unwrap();
    assert_eq!(r["status"], "failed");
    let msg = r["msg"].as_str().unwrap();
    assert!(msg.contains("no_such_variable") && msg.contains("undefined"), "{msg}");
    assert!(msg.contains("site.yml:"), "message names the playbook location: {msg}");
    assert!(!p.host_dir("h1").join("never").exists() && !p.host_dir("h1").join("after").exists());
}

/// Issue 16.6: text that makes minijinja's lexer panic (`a }} b`), written in the playbook or coming
/// from a host at run time, fails that task on that host; the run goes on to its recap.
#[test]
fn unparsable_expressions_fail_the_task_not_the_run() {
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        &pb(r#"
    - name: from the host
      command: "echo 'a }} b'"
      register: out
    - name: evaluated at run time
      command: "true"
      when: "{{ out.stdout }} == 'x'"
      ignore_errors: true
    - name: still running
      copy: {content: x, dest: "{{ dir }}/after"}
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("panicked"), "no panic message on the terminal: {err}");
    let r = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "evaluated at run time").unwrap();
    assert_eq!(r["status"], "failed", "{r}");
    assert!(r["msg"].as_str().unwrap().contains("cannot be parsed"), "{r}");
    assert!(p.host_dir("h1").join("after").exists());
    assert_eq!(recap_total(&doc, "failed"), 0, "ignored failures");

    // written in the playbook: refused at load time with its location, nothing runs
    p.write("bad.yml", &pb("    - name: written in the playbook\n      command: \"true\"\n      when: \"a }} b\"\n"));
    let (code, out, err) = p.cli("bad.yml", &[]);
    assert_ne!(code, 0);
    assert!(!err.contains("panicked") && !out.contains("panicked"), "{err}");
    assert!(err.contains("bad.yml:") && err.contains("cannot be parsed"), "{err}");
}

#[test]
fn free_strategy_and_forks_one() {
    let p = Project::local(&["h1", "h2", "h3"]);
    p.write("site.yml", &pb("    - name: mark\n      copy: {content: \"{{ inventory_hostname }}\", dest: \"{{ dir }}/mark\"}\n"));
    let (code, doc, err) = p.cli_json("site.yml", &["--strategy", "free", "-f", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(recap_total(&doc, "changed"), 6);
    for h in ["h1", "h2", "h3"] {
        assert_eq!(read(&p.host_dir(h).join("mark")), h);
    }
    let (code, doc, _) = p.cli_json("site.yml", &["-f", "2"]);
    assert_eq!(code, 0);
    assert_eq!(recap_total(&doc, "changed"), 0);
}

#[test]
fn run_once_delegate_to_and_magic_vars() {
    let p = Project::local(&["h1", "h2", "h3"]);
    p.write("templates/hosts.j2", "{% for h in groups['web'] %}{{ h }}={{ hostvars[h]['inventory_hostname_short'] | default(h) }} {% endfor %}\nplay={{ ansible_play_hosts | length }} me={{ inventory_hostname }} groups={{ group_names | join(',') }}\n");
    p.write(
        "site.yml",
        &pb(r#"
    - name: once
      shell: "echo {{ inventory_hostname }} >> {{ work }}/once.log"
      run_once: true
      register: once_out
    - name: everybody sees the run_once result
      assert:
        that: ["once_out.rc == 0"]
    - name: on the controller
      copy: {content: "{{ inventory_hostname }}", dest: "{{ work }}/delegated-{{ inventory_hostname }}"}
      delegate_to: localhost
    - name: magic variables in a template file
      template: {src: hosts.j2, dest: "{{ dir }}/hosts"}
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(read(&p.path("hosts/once.log")), "h1\n");
    assert_eq!(read(&p.path("hosts/delegated-h2")), "h2");
    assert_eq!(read(&p.host_dir("h3").join("hosts")), "h1=h1 h2=h2 h3=h3 play=3 me=h3 groups=web\n", "trim_blocks eats the newline after endfor, as in Ansible");
}

#[test]
fn meta_end_host_and_end_play() {
    let p = Project::local(&["h1", "h2"]);
    p.write(
        "site.yml",
        &format!(
            "{}- hosts: web\n  gather_facts: false\n  tasks:\n    - name: second play\n      copy: {{content: two, dest: \"{{{{ work }}}}/{{{{ inventory_hostname }}}}/play2\"}}\n      check_mode: false\n",
            pb(r#"
    - name: stop h1 here
      meta: end_host
      when: inventory_hostname == 'h1'
    - name: only h2
      copy: {content: h2, dest: "{{ dir }}/after-end-host"}
    - meta: end_play
    - name: nobody
      copy: {content: x, dest: "{{ dir }}/after-end-play"}
"#)
        ),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert!(!p.host_dir("h1").join("after-end-host").exists());
    assert!(p.host_dir("h2").join("after-end-host").exists());
    assert!(!p.host_dir("h2").join("after-end-play").exists());
    // ending a play is not a failure: both hosts run the next play
    assert_eq!(read(&p.host_dir("h1").join("play2")), "two");
    assert_eq!(read(&p.host_dir("h2").join("play2")), "two");
}

/// serial from a template (extra vars), the free strategy inside each batch, and `meta: end_batch`
/// (ends the batch; the next batch still runs).
#[test]
fn serial_templated_free_and_end_batch() {
    let p = Project::local(&["h1", "h2", "h3", "h4", "h5"]);
    std::fs::create_dir_all(p.path("hosts")).unwrap();
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  strategy: free
  serial: "{{ batch }}"
  tasks:
    - name: a
      shell: echo "{{ inventory_hostname }} a {{ ansible_play_batch | join(',') }}" >> {{ work }}/log
# linear: every host of the batch reaches end_batch (under free the first one there ends the batch)
- hosts: web
  gather_facts: false
  serial: 3
  tasks:
    - name: c
      shell: echo "{{ inventory_hostname }} c" >> {{ work }}/log
    - meta: end_batch
    - name: d
      shell: echo "{{ inventory_hostname }} d" >> {{ work }}/log
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &["-e", "batch=2"]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let mut got: Vec<String> = read(&p.path("hosts/log")).lines().map(str::to_string).collect();
    assert_eq!(got.len(), 10, "{got:?}");
    got[..2].sort();
    got[2..4].sort();
    got[5..8].sort();
    got[8..].sort();
    assert_eq!(got, ["h1 a h1,h2", "h2 a h1,h2", "h3 a h3,h4", "h4 a h3,h4", "h5 a h5", "h1 c", "h2 c", "h3 c", "h4 c", "h5 c"]);
    assert_eq!(doc["recap"].as_object().unwrap().len(), 5);
    // A template that does not render to a batch size is an error for the play's hosts.
    let (code, doc, err) = p.cli_json("site.yml", &["-e", "batch=lots"]);
    assert_eq!(code, 2, "{err}");
    let serial: Vec<_> = doc["results"].as_array().unwrap().iter().filter(|r| r["task"] == "serial").collect();
    assert_eq!(serial.len(), 5, "{doc:#}");
    assert!(serial[0]["msg"].as_str().unwrap().contains("found `lots`"), "{doc:#}");
}

/// Templated task names are shown rendered, as Ansible does: the header with the first host's
/// variables, each result with its host's; a name that cannot be rendered yet stays as written.
#[test]
fn templated_task_names_are_rendered() {
    let p = Project::local(&["h1", "h2"]);
    p.write("host_vars/h2.yml", "color: blue\n");
    p.write(
        "site.yml",
        &pb(r#"
    - name: paint {{ color | default('red') }} in {{ dir | basename }}
      command: "true"
      changed_when: false
    - name: per item {{ item }}
      command: "true"
      loop: [1]
      changed_when: false
"#),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(statuses(&doc, "paint red in h1"), vec![("h1".to_string(), "ok".to_string())], "{doc:#}");
    assert_eq!(statuses(&doc, "paint blue in h2"), vec![("h2".to_string(), "ok".to_string())], "{doc:#}");
    assert_eq!(statuses(&doc, "per item {{ item }}").len(), 2, "{doc:#}");
    let (code, out, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("TASK [paint red in h1]"), "{out}");
}

/// Issue 16.7: `timeout`, `throttle`, `ignore_unreachable` and `force_handlers` do what Ansible does
/// (they were accepted and ignored).
#[test]
fn timeout_throttle_ignore_unreachable_and_force_handlers() {
    let p = Project::local(&["h1", "h2", "h3"]);
    // a host nobody answers for (connection refused at once)
    let inv = std::fs::read_to_string(&p.inventory).unwrap();
    std::fs::write(&p.inventory, format!("{inv}\n[far]\ndown ansible_host=127.0.0.1 ansible_port=9 ansible_connection=ssh\n")).unwrap();
    p.write(
        "site.yml",
        r#"
- hosts: web
  gather_facts: false
  tasks:
    - name: work dir
      file: {path: "{{ work }}", state: directory}
      run_once: true
    - name: too slow
      command: sleep 6
      timeout: 2
      ignore_errors: true
    - name: the connection still works after a timeout
      command: "true"
    - name: one host at a time
      shell: "mkdir {{ work }}/lock && sleep 1 && rmdir {{ work }}/lock"
      throttle: "{{ 1 }}"
- hosts: web
  gather_facts: false
  force_handlers: true
  tasks:
    - name: notify
      command: "true"
      notify: mark
    - name: h1 fails
      fail: {msg: boom}
      when: inventory_hostname == 'h1'
  handlers:
    - name: mark
      file: {path: "{{ work }}/handled-{{ inventory_hostname }}", state: touch}
# last: a play whose hosts are all unreachable ends the run, as in Ansible
- hosts: far
  gather_facts: false
  tasks:
    - name: unreachable but ignored
      command: "true"
      ignore_unreachable: true
    - name: still tried
      command: "true"
"#,
    );
    let t0 = std::time::Instant::now();
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "h1 failed (and `down` is unreachable): {err}");
    let slow = statuses(&doc, "too slow");
    assert!(slow.iter().all(|(_, s)| s == "failed"), "{slow:?}");
    let r = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "too slow").unwrap();
    assert!(r["msg"].as_str().unwrap().contains("expected time frame (2)"), "{r}");
    assert!(t0.elapsed() < std::time::Duration::from_secs(30), "the sleep was cut short");
    assert!(statuses(&doc, "the connection still works after a timeout").iter().all(|(_, s)| s == "changed"));
    // with forks 50, three hosts at once would find the lock taken
    assert!(statuses(&doc, "one host at a time").iter().all(|(_, s)| s == "changed"), "{:?}", statuses(&doc, "one host at a time"));
    assert_eq!(statuses(&doc, "unreachable but ignored"), vec![("down".to_string(), "unreachable".to_string())]);
    assert_eq!(statuses(&doc, "still tried"), vec![("down".to_string(), "unreachable".to_string())], "the host stayed in the play");
    let down = &doc["recap"]["down"];
    assert_eq!((down["ok"].as_u64(), down["ignored"].as_u64(), down["unreachable"].as_u64()), (Some(1), Some(1), Some(1)), "{down}");
    for h in ["h1", "h2", "h3"] {
        assert!(p.path(&format!("hosts/handled-{h}")).exists(), "force_handlers: {h} ran its handler");
    }
}

/// Issue 14.1: `hosts: localhost` without localhost in the inventory runs on Ansible's implicit
/// localhost (local connection); it is not part of `all`.
#[test]
fn implicit_localhost() {
    let p = Project::local(&["h1"]);
    p.write(
        "site.yml",
        r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: on the controller
      command: "echo {{ inventory_hostname }} {{ ansible_connection }}"
      register: out
    - name: check
      assert: {that: ["out.stdout == 'localhost local'", "'localhost' not in groups['all']"]}
- hosts: all
  gather_facts: false
  tasks:
    - name: everyone
      command: "true"
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(statuses(&doc, "on the controller"), vec![("localhost".to_string(), "changed".to_string())]);
    assert_eq!(statuses(&doc, "everyone"), vec![("h1".to_string(), "changed".to_string())], "all does not include the implicit localhost");
}

/// Issue 14.0: boolean keywords given as templates are rendered per host at run time (they were
/// refused with "expected a boolean").
#[test]
fn templated_boolean_keywords() {
    let p = Project::local(&["h1", "h2"]);
    p.write(
        "site.yml",
        r#"
- hosts: web
  gather_facts: false
  vars: {yes_var: true}
  tasks:
    - name: once
      command: "echo once"
      run_once: "{{ testvar | default(False) or yes_var }}"
    - name: ignored
      command: "false"
      ignore_errors: "{{ yes_var }}"
    - name: hidden on h1
      command: "echo secret-output"
      no_log: "{{ inventory_hostname == 'h1' }}"
    - name: not in check mode
      command: "true"
      check_mode: "{{ 'no' }}"
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(statuses(&doc, "once").len(), 1, "run_once rendered true: {:?}", statuses(&doc, "once"));
    assert_eq!(recap_total(&doc, "ignored"), 2);
    let r = |host: &str| doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "hidden on h1" && r["host"] == host).unwrap().to_string();
    assert!(r("h1").contains("has been hidden") && !r("h2").contains("has been hidden"), "{} / {}", r("h1"), r("h2"));
    // --check: the templated check_mode: no still runs the command
    let (code, doc, err) = p.cli_json("site.yml", &["--check"]);
    assert_eq!(code, 0, "{err}");
    assert!(statuses(&doc, "not in check mode").iter().all(|(_, s)| s == "changed"), "{:?}", statuses(&doc, "not in check mode"));
}

/// Issue 14.2: the `with_<lookup>` loops real roles use, `loop_control: extended/pause`, and a loop
/// over an undefined variable under a false `when` (skipped, as in Ansible).
#[test]
fn with_lookup_loops_and_extended_loop_control() {
    let p = Project::local(&["h1"]);
    p.write("files/a.conf", "a");
    p.write("files/b.conf", "b");
    p.write(
        "site.yml",
        r#"
- hosts: web
  gather_facts: false
  vars:
    users: [{name: u1, keys: [k1, k2]}, {name: u2, keys: [k3]}]
  tasks:
    - set_fact: {seq: "{{ seq | default([]) + [item] }}"}
      with_sequence: start=1 end=3 format=n%02d
    - set_fact: {pairs: "{{ pairs | default([]) + [item.0 ~ item.1] }}"}
      with_together: [[a, b], [1, 2]]
    - set_fact: {prod: "{{ prod | default([]) + [item.0 ~ item.1] }}"}
      with_nested: [[x, y], [1, 2]]
    - set_fact: {sub: "{{ sub | default([]) + [item.0.name ~ ':' ~ item.1] }}"}
      with_subelements: [ "{{ users }}", keys ]
    - set_fact: {idx: "{{ idx | default([]) + [item.0 ~ '=' ~ item.1] }}"}
      with_indexed_items: [p, q]
    - set_fact: {lines: "{{ lines | default([]) + [item] }}"}
      with_lines: printf 'l1\nl2\n'
    - set_fact: {globbed: "{{ globbed | default([]) + [item | basename] }}"}
      with_fileglob: "*.conf"
    - set_fact: {found: "{{ item | basename }}"}
      with_first_found: [missing.conf, b.conf]
    - set_fact: {ext: "{{ ext | default([]) + [ansible_loop.index ~ '/' ~ ansible_loop.length ~ (ansible_loop.last | ternary('L', ''))] }}"}
      loop: [a, b]
      loop_control: {extended: true, pause: 0.1}
    - name: undefined loop, false when
      debug: {msg: "{{ item }}"}
      with_items: ["{{ baz }}"]
      when: false
    - assert:
        that:
          - seq == ['n01', 'n02', 'n03']
          - pairs == ['a1', 'b2']
          - prod == ['x1', 'x2', 'y1', 'y2']
          - sub == ['u1:k1', 'u1:k2', 'u2:k3']
          - idx == ['0=p', '1=q']
          - lines == ['l1', 'l2']
          - globbed == ['a.conf', 'b.conf']
          - found == 'b.conf'
          - ext == ['1/2', '2/2L']
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc}");
    assert_eq!(statuses(&doc, "undefined loop, false when"), vec![("h1".to_string(), "skipped".to_string())]);
    p.write("bad.yml", "- hosts: web\n  tasks:\n    - debug: {msg: x}\n      with_bogus: [1]\n");
    let (code, _, err) = p.cli("bad.yml", &[]);
    assert_ne!(code, 0);
    assert!(err.contains("bad.yml:4:7") && err.contains("`bogus` lookup is not"), "{err}");
}

/// Issue 14.3: play syntax Ansible 2.14 accepts: `vars:` as a list of mappings, `include:` of tasks
/// and of a playbook, `ansible_run_tags`/`ansible_skip_tags`, play vars above gathered facts.
#[test]
fn older_play_syntax_and_precedence() {
    let p = Project::local(&["h1"]);
    p.write("more.yml", "- name: included task\n  set_fact: {from_include: yes}\n");
    p.write("other.yml", "- hosts: web\n  gather_facts: false\n  tasks:\n    - name: from the included playbook\n      command: \"true\"\n");
    p.write(
        "site.yml",
        r#"
- hosts: web
  gather_facts: true
  vars:
    - a: 1
    - b: 2
    - ansible_hostname: set-by-the-play
  tasks:
    - include: more.yml
    - assert:
        that:
          - a == 1 and b == 2
          - from_include
          - ansible_run_tags == ['all'] and ansible_skip_tags == []
          - ansible_hostname == 'set-by-the-play'
          - ansible_facts.hostname != 'set-by-the-play'
- include: other.yml
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc}");
    assert_eq!(statuses(&doc, "from the included playbook").len(), 1);
}
