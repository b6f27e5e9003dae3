//! Differential test: our inventory reading against the real `ansible-inventory` (Debian's
//! ansible package, which the benchmarks need too) on the same files: every host's variables
//! (values and types) and every group's hosts and children must be identical.
use mdxconf_config::inventory::Inventory;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

fn ansible_list(inv: &Path) -> Value {
    let out = Command::new("ansible-inventory")
        .arg("-i")
        .arg(inv)
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_LOCAL_TEMP", std::env::temp_dir())
        .output()
        .expect("ansible-inventory must be installed (apt-get install ansible)");
    assert!(out.status.success(), "ansible-inventory failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn compare(path: &Path) {
    let theirs = ansible_list(path);
    let ours = Inventory::load(path).unwrap();
    let hv = theirs["_meta"]["hostvars"].as_object().cloned().unwrap_or_default();
    assert!(!ours.hosts.is_empty() && hv.len() == ours.hosts.len(), "both sides must see the same, non-empty host set");
    let their_hosts: BTreeSet<&String> = theirs["_meta"]["hostvars"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    for h in ours.hosts.keys() {
        let mine = Value::Object(ours.host_vars(h));
        let expected = hv.get(h).cloned().unwrap_or(Value::Object(Default::default()));
        assert_eq!(mine, expected, "variables of host {h} in {}", path.display());
    }
    for h in their_hosts {
        assert!(ours.hosts.contains_key(h), "host {h} missing");
    }
    for (name, g) in theirs.as_object().unwrap() {
        if name == "_meta" {
            continue;
        }
        let ours_g = ours.groups.get(name).unwrap_or_else(|| panic!("group {name} missing"));
        let their_children: BTreeSet<String> = g["children"].as_array().map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect()).unwrap_or_default();
        let our_children: BTreeSet<String> = ours_g.children.iter().filter(|c| !ours.group_hosts(c).is_empty() || !ours.groups[*c].children.is_empty()).cloned().collect();
        assert_eq!(our_children, their_children, "children of {name}");
        if name != "all" {
            let their_hosts: Vec<String> = g["hosts"].as_array().map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect()).unwrap_or_default();
            assert_eq!(ours_g.hosts, their_hosts, "hosts of {name}");
        }
    }
}

#[test]
fn ini_inventory_with_vars_dirs_matches_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("hosts"),
        r#"# ranges, literals, ports, nesting at several depths
login ansible_host=192.0.2.10 ansible_user=mdxuser ansible_port=2222
[compute]
node[01:04] ethipv4=10.1.2.3 rdma=True n="42" s='quoted "inner"' l="[1, 'two', {'k': None}]" v=0644 f=1.5 e= x=y=z
gpu[a:b]:2200
[gpu]
gpu[a:b] cuda=yes
[storage]
nfs1
[cluster:children]
compute
gpu
[hpc:children]
cluster
storage
[cluster:vars]
level=cluster
only_cluster=True
[compute:vars]
level=compute
[hpc:vars]
level=hpc
hpc_list=[1,2]
[all:vars]
level=all
ntp=ntp.example.org
"#,
    )
    .unwrap();
    fs::create_dir_all(d.join("group_vars/compute")).unwrap();
    fs::create_dir_all(d.join("host_vars")).unwrap();
    fs::write(d.join("group_vars/all.yml"), "gv_all: 1\nlevel_gv: all\n").unwrap();
    fs::write(d.join("group_vars/hpc.yaml"), "level_gv: hpc\nmode: 0755\nflag: on\n").unwrap();
    fs::write(d.join("group_vars/compute/10.yml"), "level_gv: compute\nmerged: {a: 1}\n").unwrap();
    fs::write(d.join("group_vars/compute/20.yml"), "merged: {b: 2}\n").unwrap();
    fs::write(d.join("group_vars/gpu.json"), r#"{"level_gv": "gpu", "drivers": ["nvidia"]}"#).unwrap();
    fs::write(d.join("host_vars/node02.yml"), "level: host_vars\nlevel_gv: node02\n").unwrap();
    compare(&d.join("hosts"));
}

#[test]
fn yaml_inventory_matches_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(
        d.join("inv.yml"),
        r#"all:
  vars:
    level: all
    octal: 0644
    b: yes
  hosts:
    bastion:
      ansible_host: 192.0.2.1
  children:
    web:
      hosts:
        web[1:3]:
          http_port: 8080
      vars:
        level: web
    db:
      hosts:
        db1:
        web2:
          role: both
      children:
        dbreplica:
          hosts:
            db2:
          vars:
            level: replica
    b_team:
      children:
        web:
    a_team:
      children:
        web:
      vars:
        level: a_team
        team: a
"#,
    )
    .unwrap();
    fs::create_dir_all(d.join("group_vars")).unwrap();
    fs::write(d.join("group_vars/a_team.yml"), "team_gv: a\n").unwrap();
    fs::write(d.join("group_vars/b_team.yml"), "team_gv: b\n").unwrap();
    compare(&d.join("inv.yml"));
}

/// `ansible -i INV PATTERN --list-hosts`, in Ansible's order.
fn ansible_hosts(inv: &Path, pattern: &str) -> Vec<String> {
    let out = Command::new("ansible")
        .arg("-i")
        .arg(inv)
        .arg(pattern)
        .arg("--list-hosts")
        .env("ANSIBLE_LOCAL_TEMP", std::env::temp_dir())
        .output()
        .expect("ansible must be installed (apt-get install ansible)");
    assert!(out.status.success(), "ansible --list-hosts failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().skip(1).map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn host_patterns_match_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hosts");
    fs::write(&f, "bastion\n[web]\nweb[01:04]\n[db]\ndb1\nweb02\n[gpu]\ngpu[1:2]\nweb04\n[app:children]\nweb\ndb\n").unwrap();
    let inv = Inventory::load(&f).unwrap();
    for pattern in ["all", "web", "app:!db", "app:&gpu", "web*:!web02", "~(web|db)0?[12]$", "db,gpu,bastion", "web[1:2]", "web[-1]", "ungrouped:gpu", "!web", "*1"] {
        let mut theirs = ansible_hosts(&f, pattern);
        let mut ours = inv.hosts_matching(pattern);
        // Ansible lists --list-hosts in its own order for unions; compare as sets, and exactly for subscripts
        if !pattern.contains('[') {
            theirs.sort();
            ours.sort();
        }
        assert_eq!(ours, theirs, "pattern {pattern}");
    }
}
