//! Play-level control over real SSH (sshd on 127.0.0.x): `serial` batches, `any_errors_fatal`,
//! `max_fail_percentage`, `add_host`/`group_by` feeding later plays, and `delegate_to` another host.
//! All hosts share this machine's filesystem, so one append-only log shows the global order, and
//! `$SSH_CONNECTION` shows which sshd (address and port) a command really ran on.
use crate::common;
use common::*;
use std::collections::HashMap;

/// The shared log's lines, split in words.
fn log_lines(p: &Project) -> Vec<Vec<String>> {
    read(&p.path("hosts/log")).lines().map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}

/// The log's lines with their words joined by single spaces.
fn log_entries(p: &Project) -> Vec<String> {
    log_lines(p).iter().map(|l| l.join(" ")).collect()
}

fn mkwork(p: &Project) {
    std::fs::create_dir_all(p.path("hosts")).unwrap();
}

/// (client port, server address, server port) of a `$SSH_CONNECTION` value.
fn ssh_conn(words: &[&str]) -> (String, String, String) {
    assert_eq!(words.len(), 4, "SSH_CONNECTION has 4 fields: {words:?}");
    (words[1].to_string(), words[2].to_string(), words[3].to_string())
}

#[test]
fn serial_batches_run_the_whole_play_in_turn() {
    let p = Project::sshd(5);
    mkwork(&p);
    p.write(
        "site.yml",
        r#"- name: rolling
  hosts: web
  gather_facts: false
  serial: [1, "40%"]
  tasks:
    - name: one
      shell: echo "{{ inventory_hostname }} one {{ ansible_play_batch | join(',') }}" >> {{ work }}/log
      notify: h
    - name: two
      shell: echo "{{ inventory_hostname }} two" >> {{ work }}/log
  handlers:
    - name: h
      shell: echo "{{ inventory_hostname }} handler" >> {{ work }}/log
- name: after
  hosts: web
  gather_facts: false
  tasks:
    - name: after
      shell: echo "{{ inventory_hostname }} after {{ ansible_play_batch | join(',') }}" >> {{ work }}/log
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let lines = log_lines(&p);
    assert_eq!(lines.len(), 5 * 4, "{lines:?}");
    // serial [1, 40%] over 5 hosts: batches [host1], [host2, host3], [host4, host5]
    let batch_of: HashMap<&str, usize> = [("host1", 0), ("host2", 1), ("host3", 1), ("host4", 2), ("host5", 2)].into_iter().collect();
    let rolling: Vec<&Vec<String>> = lines.iter().filter(|l| l[1] != "after").collect();
    assert_eq!(rolling.len(), 15);
    let order: Vec<usize> = rolling.iter().map(|l| batch_of[l[0].as_str()]).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "each batch runs tasks and handlers before the next starts: {lines:?}");
    // Within a batch: every host's `one` before any `two`, and the handler last.
    for b in 0..3 {
        let steps: Vec<&str> = rolling.iter().filter(|l| batch_of[l[0].as_str()] == b).map(|l| l[1].as_str()).collect();
        let n = steps.len() / 3;
        assert_eq!(steps, [vec!["one"; n], vec!["two"; n], vec!["handler"; n]].concat(), "batch {b}: {lines:?}");
    }
    let mut batch_var: Vec<(&str, &str)> = rolling.iter().filter(|l| l[1] == "one").map(|l| (l[0].as_str(), l[2].as_str())).collect();
    batch_var.sort();
    assert_eq!(batch_var, vec![("host1", "host1"), ("host2", "host2,host3"), ("host3", "host2,host3"), ("host4", "host4,host5"), ("host5", "host4,host5")]);
    // The play without serial: one batch of all hosts, after every rolling batch.
    assert!(lines[15..].iter().all(|l| l[1] == "after" && l[2] == "host1,host2,host3,host4,host5"), "{lines:?}");
    // PLAY RECAP sums the batches.
    for h in ["host1", "host2", "host3", "host4", "host5"] {
        assert_eq!(doc["recap"][h]["changed"], 4, "{h}: {doc:#}");
        assert_eq!(doc["recap"][h]["failed"], 0);
    }
}

#[test]
fn serial_batch_that_failed_entirely_stops_the_run() {
    let play = |failing: &str| {
        format!(
            r#"- hosts: web
  gather_facts: false
  serial: 2
  tasks:
    - name: maybe fail
      command: "false"
      when: inventory_hostname in [{failing}]
    - name: mark
      shell: echo "{{{{ inventory_hostname }}}} mark" >> {{{{ work }}}}/log
- hosts: web
  gather_facts: false
  tasks:
    - name: next play
      shell: echo "{{{{ inventory_hostname }}}} next" >> {{{{ work }}}}/log
"#
        )
    };
    // The whole first batch fails: Ansible runs no later batch and no later play.
    let p = Project::sshd(4);
    mkwork(&p);
    p.write("site.yml", &play("'host1', 'host2'"));
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    assert!(log_lines(&p).is_empty(), "{:?}", log_lines(&p));
    assert_eq!(doc["recap"]["host1"]["failed"], 1);
    assert_eq!(doc["recap"]["host2"]["failed"], 1);
    assert!(doc["recap"].get("host3").is_none(), "host3's batch never started: {doc:#}");

    // One host of the batch fails: the other batches and the next play run on the rest.
    std::fs::remove_file(p.path("hosts/log")).ok();
    p.write("site.yml", &play("'host1'"));
    std::fs::remove_file(p.path("site.retry")).ok();
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    let mut got = log_entries(&p);
    assert_eq!(got.len(), 6, "{got:?}");
    // host2's batch, then host3+host4's batch, then the next play (hosts of one batch run in parallel)
    got[1..3].sort();
    got[3..].sort();
    assert_eq!(got, vec!["host2 mark", "host3 mark", "host4 mark", "host2 next", "host3 next", "host4 next"]);
}

#[test]
fn max_fail_percentage_per_batch() {
    let play = |pct: &str| {
        format!(
            r#"- hosts: web
  gather_facts: false
  serial: 2
  max_fail_percentage: {pct}
  tasks:
    - name: first
      shell: echo "{{{{ inventory_hostname }}}} first" >> {{{{ work }}}}/log; test {{{{ inventory_hostname }}}} != host1
    - name: second
      shell: echo "{{{{ inventory_hostname }}}} second" >> {{{{ work }}}}/log
- hosts: web
  gather_facts: false
  tasks:
    - name: next play
      shell: echo "{{{{ inventory_hostname }}}} next" >> {{{{ work }}}}/log
"#
        )
    };
    // 1 of 2 failed = 50% > 49%: the batch stops after the failing task, nothing else runs.
    let p = Project::sshd(4);
    mkwork(&p);
    p.write("site.yml", &play("49"));
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    let mut got = log_entries(&p);
    got.sort();
    assert_eq!(got, vec!["host1 first", "host2 first"]);
    assert_eq!(doc["recap"]["host1"]["failed"], 1);
    assert_eq!(doc["recap"]["host2"]["failed"], 0, "stopped, not failed");
    assert!(doc["recap"].get("host3").is_none());

    // 50% is not more than 50%: everything else runs.
    std::fs::remove_file(p.path("hosts/log")).ok();
    p.write("site.yml", &play("\"50%\""));
    let (code, _doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}");
    let mut got = log_entries(&p);
    assert_eq!(got.len(), 2 + 1 + 4 + 3, "{got:?}");
    got[..2].sort();
    got[3..5].sort();
    got[5..7].sort();
    got[7..].sort();
    assert_eq!(got, ["host1 first", "host2 first", "host2 second", "host3 first", "host4 first", "host3 second", "host4 second", "host2 next", "host3 next", "host4 next"]);
}

#[test]
fn any_errors_fatal_stops_every_host() {
    let p = Project::sshd(3);
    mkwork(&p);
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: rescued failure is not fatal
      block:
        - command: "false"
          when: inventory_hostname == 'host3'
      rescue:
        - shell: echo "{{ inventory_hostname }} rescued" >> {{ work }}/log
    - name: fails on host2
      shell: echo "{{ inventory_hostname }} fails" >> {{ work }}/log; test {{ inventory_hostname }} != host2
    - name: never
      shell: echo "{{ inventory_hostname }} never" >> {{ work }}/log
- hosts: web
  gather_facts: false
  tasks:
    - name: next play
      shell: echo "{{ inventory_hostname }} next" >> {{ work }}/log
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    let mut got = log_entries(&p);
    got.sort();
    assert_eq!(got, vec!["host1 fails", "host2 fails", "host3 fails", "host3 rescued"]);
    assert_eq!(doc["recap"]["host1"]["failed"], 0);
    assert_eq!(doc["recap"]["host2"]["failed"], 1);
    assert_eq!(doc["recap"]["host3"]["rescued"], 1);
    assert!(statuses(&doc, "never").is_empty());
    let (_, out, _) = p.cli("site.yml", &[]);
    assert!(out.contains("NO MORE HOSTS LEFT"), "{out}");

    // Task level: an ordinary failure only drops its host; the flagged task stops everyone.
    let p = Project::sshd(3);
    mkwork(&p);
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  tasks:
    - name: ordinary failure
      command: "false"
      when: inventory_hostname == 'host1'
    - name: fatal here
      shell: echo "{{ inventory_hostname }} fatal" >> {{ work }}/log; test {{ inventory_hostname }} != host2
      any_errors_fatal: true
    - name: never
      shell: echo "{{ inventory_hostname }} never" >> {{ work }}/log
"#,
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 2, "{err}\n{doc:#}");
    let mut got = log_entries(&p);
    got.sort();
    assert_eq!(got, vec!["host2 fatal", "host3 fatal"]);
    assert_eq!(doc["recap"]["host3"]["failed"], 0);
}

#[test]
fn add_host_and_group_by_feed_later_plays() {
    let p = Project::sshd(3);
    mkwork(&p);
    let fleet = p.fleet.as_ref().unwrap();
    let h3 = &fleet.hosts[2];
    // host3's sshd is not in the inventory: add_host brings it in under a new name.
    let inv = std::fs::read_to_string(&p.inventory).unwrap();
    let inv: String = inv.lines().filter(|l| !l.starts_with("host3 ")).map(|l| format!("{l}\n")).collect::<String>().replace("[web:vars]", "[all:vars]");
    std::fs::write(&p.inventory, inv).unwrap();
    // Groups and hosts created at run time read their group_vars/ and host_vars/ files too.
    p.write("group_vars/dynamic.yml", "dyn_var: from-group-vars\n");
    p.write("group_vars/kind-two/main.yml", "kind_var: two-from-group-vars\n");
    p.write("host_vars/newbox.yml", "hv: from-host-vars\n");
    p.write(
        "site.yml",
        &format!(
            r#"- hosts: web
  gather_facts: false
  tasks:
    - name: add
      add_host:
        name: "{{{{ item }}}}"
        groups: [dynamic, extra]
        ansible_host: {addr}
        ansible_port: {port}
        ansible_user: {user}
        ansible_ssh_private_key_file: {key}
        greeting: "hello-from-{{{{ inventory_hostname }}}}"
      loop: [newbox]
    - name: groups change at once
      copy: {{content: "{{{{ groups['dynamic'] | join(',') }}}} {{{{ hostvars['newbox']['greeting'] }}}}", dest: "{{{{ work }}}}/groups-{{{{ inventory_hostname }}}}"}}
    - name: classify
      group_by: {{key: "kind {{{{ 'one' if inventory_hostname == 'host1' else 'two' }}}}", parents: [classified]}}
    - name: own group_names change at once
      copy: {{content: "{{{{ group_names | join(',') }}}}", dest: "{{{{ work }}}}/names-{{{{ inventory_hostname }}}}"}}
- hosts: dynamic
  gather_facts: false
  tasks:
    - name: on the new host
      shell: echo "{{{{ inventory_hostname }}}} {{{{ greeting }}}} {{{{ group_names | join(',') }}}} {{{{ dyn_var }}}} {{{{ hv }}}} $SSH_CONNECTION" > {{{{ work }}}}/{{{{ inventory_hostname }}}}
- hosts: kind-two
  gather_facts: false
  tasks:
    - name: only host2
      copy: {{content: "{{{{ kind_var }}}}", dest: "{{{{ work }}}}/kind-{{{{ inventory_hostname }}}}"}}
- hosts: classified
  gather_facts: false
  tasks:
    - name: both
      file: {{path: "{{{{ work }}}}/classified-{{{{ inventory_hostname }}}}", state: touch}}
"#,
            addr = h3.address,
            port = h3.port,
            user = h3.user,
            key = fleet.client_key.display()
        ),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    // add_host bypasses the host loop: one result, on the first host.
    assert_eq!(statuses(&doc, "add"), vec![("host1".to_string(), "changed".to_string())]);
    assert_eq!(read(&p.path("hosts/groups-host2")), "newbox hello-from-host1");
    assert_eq!(read(&p.path("hosts/names-host1")), "classified,kind-one,web");
    let line = read(&p.path("hosts/newbox"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..5], ["newbox", "hello-from-host1", "dynamic,extra", "from-group-vars", "from-host-vars"], "{line}");
    let (_, addr, port) = ssh_conn(&words[5..]);
    assert_eq!((addr, port), (h3.address.clone(), h3.port.to_string()), "ran on host3's sshd (ansible_host/ansible_port of the added host)");
    assert_eq!(read(&p.path("hosts/kind-host2")), "two-from-group-vars");
    assert!(!p.path("hosts/kind-host1").exists());
    assert!(p.path("hosts/classified-host1").exists() && p.path("hosts/classified-host2").exists());
    assert_eq!(doc["recap"]["newbox"]["changed"], 1, "{doc:#}");
}

#[test]
fn delegate_to_runs_over_the_delegates_connection() {
    let p = Project::sshd(3);
    mkwork(&p);
    let fleet = p.fleet.as_ref().unwrap();
    let h3 = &fleet.hosts[2];
    // Connection settings for every host (also an address outside the inventory) under [all:vars].
    let inv = std::fs::read_to_string(&p.inventory)
        .unwrap()
        .replace("[web:vars]", &format!("[all:vars]\nansible_user={}\nansible_ssh_private_key_file={}", h3.user, fleet.client_key.display()));
    std::fs::write(&p.inventory, inv).unwrap();
    p.write(
        "site.yml",
        &format!(
            r#"- hosts: host1:host2
  gather_facts: false
  tasks:
    - name: delegated
      shell: echo "{{{{ inventory_hostname }}}} {{{{ ansible_port }}}} $SSH_CONNECTION" > {{{{ work }}}}/deleg-{{{{ inventory_hostname }}}}
      delegate_to: host3
    - name: delegated per item
      shell: echo "{{{{ inventory_hostname }}}} {{{{ item }}}} $SSH_CONNECTION" > {{{{ work }}}}/loop-{{{{ inventory_hostname }}}}-{{{{ item }}}}
      delegate_to: "{{{{ item }}}}"
      loop: [host3, localhost]
    - name: fact for host3
      set_fact: {{from_delegation: "set-by-{{{{ inventory_hostname }}}}"}}
      delegate_to: host3
      delegate_facts: true
      run_once: true
    - name: the fact went to host3 only
      assert: {{that: ["from_delegation is not defined", "hostvars['host3']['from_delegation'] == 'set-by-host1'"]}}
    - name: by address
      shell: echo "$SSH_CONNECTION" > {{{{ work }}}}/adhoc-{{{{ inventory_hostname }}}}
      delegate_to: "{addr}"
      vars: {{ansible_port: {port}}}
    - name: local action
      local_action: command touch {{{{ work }}}}/local-{{{{ inventory_hostname }}}}
    - name: action keyword
      action:
        module: shell
        cmd: echo "$SSH_CONNECTION" > {{{{ work }}}}/action-{{{{ inventory_hostname }}}}
- hosts: host3
  gather_facts: false
  tasks:
    - name: own
      shell: echo "$SSH_CONNECTION {{{{ from_delegation }}}}" > {{{{ work }}}}/own-host3
"#,
            addr = h3.address,
            port = h3.port
        ),
    );
    let (code, doc, err) = p.cli_json("site.yml", &[]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    let h3_server = (h3.address.clone(), h3.port.to_string());
    let mut client_ports = Vec::new();
    for h in ["host1", "host2"] {
        let line = read(&p.path(&format!("hosts/deleg-{h}")));
        let w: Vec<&str> = line.split_whitespace().collect();
        // The original host's variables (its own ansible_port), host3's sshd.
        let own_port = fleet.hosts[if h == "host1" { 0 } else { 1 }].port.to_string();
        assert_eq!(&w[..2], [h, own_port.as_str()], "{line}");
        let (cport, addr, port) = ssh_conn(&w[2..]);
        assert_eq!((addr, port), h3_server.clone(), "{line}");
        client_ports.push(cport);
        let line = read(&p.path(&format!("hosts/loop-{h}-host3")));
        let w: Vec<&str> = line.split_whitespace().collect();
        let (cport, addr, port) = ssh_conn(&w[2..]);
        assert_eq!((addr, port), h3_server.clone(), "{line}");
        client_ports.push(cport);
        let local = read(&p.path(&format!("hosts/loop-{h}-localhost")));
        assert!(local.starts_with(&format!("{h} localhost")) && !local.contains(&h3.port.to_string()), "{local}");
    }
    // host3's own play reuses the connection the delegations opened (one per host, persistent).
    let line = read(&p.path("hosts/own-host3"));
    let w: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(w[4], "set-by-host1", "delegate_facts put the fact on host3: {line}");
    let (cport, addr, port) = ssh_conn(&w[..4]);
    assert_eq!((addr, port), h3_server.clone());
    client_ports.push(cport);
    assert!(client_ports.windows(2).all(|x| x[0] == x[1]), "one connection to host3: {client_ports:?}");
    // An address outside the inventory: its own connection, shared by both delegating hosts.
    let a1 = read(&p.path("hosts/adhoc-host1"));
    let a2 = read(&p.path("hosts/adhoc-host2"));
    let (c1, addr, port) = ssh_conn(&a1.split_whitespace().collect::<Vec<_>>());
    let (c2, ..) = ssh_conn(&a2.split_whitespace().collect::<Vec<_>>());
    assert_eq!((addr, port), h3_server);
    assert_eq!(c1, c2);
    assert_ne!(c1, client_ports[0], "not the inventory host's connection");
    // Results say where the task ran (JSON `delegated_to`, human `[host1 -> host3]`).
    let delegated: Vec<&serde_json::Value> = doc["results"].as_array().unwrap().iter().filter(|r| r["task"] == "delegated").collect();
    assert_eq!(delegated.len(), 2);
    assert!(delegated.iter().all(|r| r["delegated_to"] == "host3"), "{doc:#}");
    assert!(doc["results"].as_array().unwrap().iter().filter(|r| r["task"] == "own").all(|r| r.get("delegated_to").is_none()));
    // local_action = delegate_to localhost; action: runs on the host itself.
    assert!(
        statuses(&doc, "local action").len() == 2 && doc["results"].as_array().unwrap().iter().filter(|r| r["task"] == "local action").all(|r| r["delegated_to"] == "localhost")
    );
    assert!(p.path("hosts/local-host1").exists() && p.path("hosts/local-host2").exists());
    let a1 = read(&p.path("hosts/action-host1"));
    let (_, addr, port) = ssh_conn(&a1.split_whitespace().collect::<Vec<_>>());
    assert_eq!((addr, port), (fleet.hosts[0].address.clone(), fleet.hosts[0].port.to_string()), "action: ran on host1 itself");
    let (code, out, err) = p.cli("site.yml", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[host1 -> host3]") && out.contains(&format!("[host2 -> {}]", h3.address)), "{out}");
}
