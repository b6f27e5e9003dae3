//! Over real SSH (sshd on 127.0.0.x): variable precedence, group_vars/host_vars beside the playbook,
//! an unreachable host with --limit and the retry file, become and environment.
use crate::common;
use common::*;

#[test]
fn variable_precedence() {
    let p = Project::sshd(2);
    // role defaults < inventory (file, then group_vars/host_vars) < play vars < set_fact < extra vars
    p.write(
        "roles/prec/defaults/main.yml",
        "p_default: role_default\np_inv: role_default\np_gv: role_default\np_hv: role_default\np_play: role_default\np_fact: role_default\np_extra: role_default\n",
    );
    p.write(
        "roles/prec/tasks/main.yml",
        r#"- name: set facts
  set_fact:
    p_fact: fact
    p_extra: fact
- name: record
  copy:
    dest: "{{ work }}/{{ inventory_hostname }}.vars"
    content: |
      default={{ p_default }}
      inv={{ p_inv }}
      gv={{ p_gv }}
      hv={{ p_hv }}
      play={{ p_play }}
      fact={{ p_fact }}
      extra={{ p_extra }}
      groups={{ groups['web'] | join(',') }}
      names={{ group_names | join(',') }}
      other={{ hostvars['host2']['p_inv'] }}
"#,
    );
    let mut inv = std::fs::read_to_string(&p.inventory).unwrap();
    inv.push_str("p_inv=inventory\np_gv=inventory\np_hv=inventory\np_play=inventory\np_fact=inventory\np_extra=inventory\n");
    std::fs::write(&p.inventory, inv).unwrap();
    p.write("group_vars/web.yml", "p_gv: group_vars\np_hv: group_vars\n");
    p.write("host_vars/host1.yml", "p_hv: host_vars\n");
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  vars: {p_play: play, p_fact: play, p_extra: play}\n  pre_tasks:\n    - file: {path: \"{{ work }}\", state: directory}\n  roles: [prec]\n");
    let (code, out, err) = p.cli("site.yml", &["-e", "p_extra=extra"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let got = read(&p.path("hosts/host1.vars"));
    assert_eq!(got, "default=role_default\ninv=inventory\ngv=group_vars\nhv=host_vars\nplay=play\nfact=fact\nextra=extra\ngroups=host1,host2\nnames=web\nother=inventory\n");
    assert!(read(&p.path("hosts/host2.vars")).contains("hv=group_vars\n"));
}

#[test]
fn unreachable_host_limit_and_retry_file() {
    let p = Project::sshd(3);
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  tasks:\n    - file: {path: \"{{ work }}\", state: directory}\n    - copy: {content: \"{{ inventory_hostname }}\", dest: \"{{ work }}/{{ inventory_hostname }}\"}\n");
    let fleet = p.fleet.as_ref().unwrap();
    fleet.stop_host(1); // host2 is down
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 4, "unreachable only: exit 4\n{err}\n{doc:#}");
    assert_eq!(doc["recap"]["host2"]["unreachable"], 1);
    assert_eq!(doc["recap"]["host1"]["failed"], 0);
    assert!(p.path("hosts/host1").exists() && p.path("hosts/host3").exists(), "the other hosts finished");
    assert!(!p.path("hosts/host2").exists());
    let unreachable: Vec<_> = doc["results"].as_array().unwrap().iter().filter(|r| r["status"] == "unreachable").collect();
    assert_eq!(unreachable.len(), 1);
    assert_eq!(unreachable[0]["host"], "host2");
    let retry = p.path("site.retry");
    assert_eq!(read(&retry), "host2\n");

    // host2 back: --limit @retry runs only host2.
    fleet.start_host(1).unwrap();
    let limit = format!("@{}", retry.display());
    let (code, doc, err) = p.cli_json("site.yml", &["--limit", &limit]);
    assert_eq!(code, 0, "{err}");
    let hosts: Vec<&String> = doc["recap"].as_object().unwrap().keys().collect();
    assert_eq!(hosts, vec!["host2"]);
    assert_eq!(read(&p.path("hosts/host2")), "host2");

    // A limit pattern that matches nothing is an error, not a silent no-op.
    let (code, _, err) = p.cli("site.yml", &["--limit", "nosuchhost"]);
    assert_ne!(code, 0);
    assert!(err.contains("matches no hosts"), "{err}");
}

#[test]
fn become_environment_and_failures() {
    let p = Project::sshd(2);
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  become: true
  tasks:
    - name: who
      command: id -un
      register: who
    - name: env
      shell: "echo $GREETING-$OTHER"
      environment:
        GREETING: hi there
        OTHER: "{{ inventory_hostname }}"
      register: envout
    - assert:
        that:
          - who.stdout == 'root'
          - envout.stdout == 'hi there-' ~ inventory_hostname
    - name: say hello
      debug:
        msg: "hello {{ inventory_hostname }}"
    - name: fails on host1
      command: "false"
      when: inventory_hostname == 'host1'
    - name: ignored failure
      command: "false"
      ignore_errors: true
    - name: after
      file: {path: "{{ work }}/{{ inventory_hostname }}-after", state: touch}
"#,
    );
    std::fs::create_dir_all(p.path("hosts")).unwrap();
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    assert_eq!(doc["recap"]["host1"]["failed"], 1);
    assert_eq!(doc["recap"]["host2"]["failed"], 0);
    assert_eq!(doc["recap"]["host2"]["ignored"], 1);
    assert!(!p.path("hosts/host1-after").exists());
    assert!(p.path("hosts/host2-after").exists());
    let fail = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "fails on host1" && r["host"] == "host1").unwrap();
    assert_eq!(fail["status"], "failed");
    assert_eq!(fail["module"], "command");
    // the failed command's own result is in the document (rc), successful ones carry none
    assert_eq!(fail["result"]["rc"], 1, "{fail:#}");
    assert!(doc["results"].as_array().unwrap().iter().filter(|r| (r["status"] == "ok" || r["status"] == "changed") && r["module"] != "debug").all(|r| r.get("result").is_none()));
    // a debug task's output is its result (as in Ansible's json callback)
    let hello = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "say hello" && r["host"] == "host2").unwrap();
    assert_eq!(hello["result"]["msg"], "hello host2", "{hello:#}");
}

/// become_user is templated (the jupyterlab role runs pip as "{{ jupyterlab_user }}"; it reached
/// sudo verbatim: "sudo: unknown user {{ jupyterlab_user }}").
#[test]
fn become_user_from_a_variable() {
    let p = Project::sshd(1);
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  become: true
  vars:
    run_as: nobody
  tasks:
    - name: who
      command: id -un
      become_user: "{{ run_as }}"
      register: who
    - assert:
        that: who.stdout == 'nobody'
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let who = doc["results"].as_array().unwrap().iter().find(|r| r["task"] == "who").unwrap();
    assert_eq!(who["status"], "changed", "{who:#}");
}

/// Files above 1 MiB go over in several commands (a single large stdin write hung now and then under
/// load); the result must be byte-identical, atomic (no stage left behind) and carry the mode.
#[test]
fn large_copy_in_chunks() {
    let p = Project::sshd(1);
    // not a multiple of the chunk size, and not text
    let data: Vec<u8> = (0..3_500_123u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(p.path("big.bin"), &data).unwrap();
    p.write(
        "site.yml",
        &format!("- hosts: web\n  gather_facts: false\n  tasks:\n    - copy: {{src: {}, dest: \"{{{{ work }}}}/sub/big.bin\", mode: \"0640\"}}\n", p.path("big.bin").display()),
    );
    std::fs::create_dir_all(p.path("hosts/sub")).unwrap();
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let dest = p.path("hosts/sub/big.bin");
    assert!(std::fs::read(&dest).unwrap() == data, "copied content differs");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o7777, 0o640);
    let left: Vec<_> = std::fs::read_dir(p.path("hosts/sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    // and again: nothing to do
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(doc["recap"]["host1"]["changed"], 0, "{doc:#}");
}

#[test]
fn gather_facts_and_include_vars_by_distribution() {
    let p = Project::sshd(2);
    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    let id = os.lines().find_map(|l| l.strip_prefix("ID=")).unwrap().trim_matches('"').to_string();
    // Ansible's names: debian -> Debian, ubuntu -> Ubuntu
    let dist = format!("{}{}", id[..1].to_uppercase(), &id[1..]);
    p.write(&format!("roles/facts/vars/{dist}.yml"), "pkg_tool: from-distribution-file\n");
    p.write(
        "roles/facts/tasks/main.yml",
        r#"- name: load distribution variables
  include_vars: "{{ ansible_distribution }}.yml"
- name: record facts
  copy:
    dest: "{{ work }}/{{ inventory_hostname }}.facts"
    content: "{{ ansible_distribution }} {{ ansible_facts.distribution }} {{ ansible_os_family }} {{ pkg_tool }} {{ ansible_hostname | length > 0 }} {{ ansible_check_mode }}\n"
"#,
    );
    p.write("site.yml", "- hosts: web\n  pre_tasks:\n    - file: {path: \"{{ work }}\", state: directory}\n  roles: [facts]\n");
    let (code, out, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("TASK [Gathering Facts]"), "{out}");
    let got = read(&p.path("hosts/host1.facts"));
    assert_eq!(got, format!("{dist} {dist} Debian from-distribution-file True False\n"));
}

/// The one atomic writer under become, over real SSH (this lived in the transport's own writer, gone
/// now): temp file, chmod and rename run as the become user; a file that user may not replace is left
/// untouched, with no temp file beside it.
#[test]
fn copy_as_another_user() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let p = Project::sshd(1);
    let open = p.path("open");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let locked = p.path("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("root-file"), "orig").unwrap();
    p.write(
        "site.yml",
        &format!(
            r#"- hosts: web
  gather_facts: false
  become: true
  become_user: nobody
  tasks:
    - name: as nobody
      copy: {{content: "x\n", dest: "{open}/owned-by-nobody", mode: "0600"}}
    - name: not allowed
      copy: {{content: evil, dest: "{locked}/root-file"}}
"#,
            open = open.display(),
            locked = locked.display()
        ),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    let meta = std::fs::metadata(open.join("owned-by-nobody")).unwrap();
    assert_eq!((meta.uid(), meta.permissions().mode() & 0o7777), (65534, 0o600), "temp file, chmod and rename ran as nobody");
    assert_eq!(statuses(&doc, "not allowed"), vec![("host1".to_string(), "failed".to_string())]);
    assert_eq!(std::fs::read_to_string(locked.join("root-file")).unwrap(), "orig");
    assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 1, "no temp file left");
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 1, "no temp file left");
}

/// Issue 15.1: the project's ansible.cfg is read as ansible-playbook reads it (./ansible.cfg in the
/// working directory): machine-configs' `become = yes` makes tasks run as root without `become:` in
/// the play, `forks` and `inventory` apply, and `ssh_args` reach the connection.
#[test]
fn ansible_cfg_in_the_working_directory() {
    let p = Project::sshd(1);
    let fleet = p.fleet.as_ref().unwrap();
    // the inventory names no known_hosts: ssh_args in ansible.cfg give it, as machine-configs does
    std::fs::write(p.path("hosts.ini"), fleet.inventory_ini("web")).unwrap();
    p.write(
        "ansible.cfg",
        &format!(
            "[ssh_connection]\npipelining=True\nssh_args = -o UserKnownHostsFile={}\n\n[defaults]\nforks = 30\ninventory = hosts.ini\ngathering = explicit\n\n[privilege_escalation]\nbecome = yes\nbecome_user = nobody\n",
            fleet.known_hosts.display()
        ),
    );
    p.write("site.yml", "- hosts: web\n  tasks:\n    - name: who\n      command: id -un\n      register: who\n    - assert: {that: [\"who.stdout == 'nobody'\", \"ansible_facts.hostname is not defined\"]}\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
        .arg("site.yml")
        .args(["--format", "json", "-v"])
        .current_dir(p.dir.path())
        .env("HOME", p.dir.path())
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("ansible.cfg as config file"), "{stderr}");
    // a bad value names its line
    p.write("ansible.cfg", "[defaults]\nforks = many\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
        .arg("site.yml")
        .current_dir(p.dir.path())
        .env("HOME", p.dir.path())
        .env_remove("ANSIBLE_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("ansible.cfg:2:9"), "{stderr}");
}
