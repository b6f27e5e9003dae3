//! Inventories read as Ansible reads them. Expected values were checked against
//! `ansible-inventory --host` / `ansible --list-hosts` (ansible-core 2.14) on the same files.
use mdxconf_config::inventory::{literal_eval, Inventory};
use serde_json::json;
use std::fs;
use std::path::Path;

const INI: &str = r#"# mdx-style inventory
bastion ansible_host=192.0.2.10 ansible_user=mdxuser

[web]
web[01:03] ethipv4=10.1.2.3 http_port=8080 flag=True lit=true quoted="quoted value" num="123" oct=0644 lst="[1, 'a']"
db-a:2222

[db]
db-[a:b] # comment

[app:children]
web
db

[app:vars]
role_name=app
level = app
spaced = "a b"  # trailing

[web:vars]
level=web

[all:vars]
level=all
ntp=ntp.example.org
"#;

fn fixture() -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("hosts"), INI).unwrap();
    fs::create_dir_all(d.join("group_vars/web")).unwrap();
    fs::create_dir_all(d.join("host_vars")).unwrap();
    fs::write(d.join("group_vars/all.yml"), "from_gv_all: 1\nlevel: gv_all\n").unwrap();
    fs::write(d.join("group_vars/web/main.yml"), "level: gv_web\nmode: 0644\n").unwrap();
    fs::write(d.join("group_vars/app.yaml"), "level: gv_app\napp_only: yes\n").unwrap();
    fs::write(d.join("host_vars/web02.yml"), "level: hv_web02\n").unwrap();
    let inv = Inventory::load(&d.join("hosts")).unwrap();
    (dir, inv)
}

#[test]
fn ini_groups_children_ranges_and_ungrouped() {
    let (_d, inv) = fixture();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["bastion", "web01", "web02", "web03", "db-a", "db-b"]);
    assert_eq!(inv.groups["web"].hosts, ["web01", "web02", "web03", "db-a"]);
    assert_eq!(inv.groups["app"].children, ["web", "db"]);
    assert_eq!(inv.groups["ungrouped"].hosts, ["bastion"]);
    let g = inv.groups_var();
    assert_eq!(g["app"], json!(["web01", "web02", "web03", "db-a", "db-b"]));
    assert_eq!(g["all"], json!(["bastion", "web01", "web02", "web03", "db-a", "db-b"]));
    assert_eq!(inv.group_names("db-a"), ["app", "db", "web"]);
    assert_eq!(inv.group_names("bastion"), ["ungrouped"]);
}

#[test]
fn ini_host_vars_are_python_literals_like_ansible() {
    let (_d, inv) = fixture();
    let v = inv.host_vars("web01");
    assert_eq!(v["ethipv4"], json!("10.1.2.3"));
    assert_eq!(v["http_port"], json!(8080));
    assert_eq!(v["flag"], json!(true));
    assert_eq!(v["lit"], json!("true"));
    assert_eq!(v["quoted"], json!("quoted value"));
    assert_eq!(v["num"], json!(123));
    assert_eq!(v["oct"], json!("0644"));
    assert_eq!(v["lst"], json!([1, "a"]));
    assert_eq!(v["spaced"], json!("a b"));
    assert_eq!(inv.host_vars("db-a")["ansible_port"], json!(2222));
    assert_eq!(inv.host_vars("bastion")["ansible_host"], json!("192.0.2.10"));
}

#[test]
fn precedence_matches_ansible() {
    let (_d, inv) = fixture();
    // expected values from `ansible-inventory -i hosts --host X`
    assert_eq!(inv.host_vars("web01")["level"], json!("gv_web"));
    assert_eq!(inv.host_vars("web02")["level"], json!("hv_web02"));
    assert_eq!(inv.host_vars("db-b")["level"], json!("gv_app"));
    assert_eq!(inv.host_vars("bastion")["level"], json!("gv_all"));
    assert_eq!(inv.host_vars("db-a")["mode"], json!(420));
    assert_eq!(inv.host_vars("db-a")["app_only"], json!(true));
    assert_eq!(inv.host_vars("bastion")["ntp"], json!("ntp.example.org"));
    assert!(inv.host_vars("bastion").get("role_name").is_none());
}

#[test]
fn inventory_group_vars_by_depth_without_vars_dirs() {
    let inv = Inventory::parse_str(INI, Path::new("hosts")).unwrap();
    assert_eq!(inv.host_vars("web01")["level"], json!("web"));
    assert_eq!(inv.host_vars("db-b")["level"], json!("app"));
    assert_eq!(inv.host_vars("bastion")["level"], json!("all"));
}

#[test]
fn playbook_vars_dirs_override_inventory_dirs() {
    let (_d, mut inv) = fixture();
    let pb = tempfile::tempdir().unwrap();
    fs::create_dir_all(pb.path().join("group_vars")).unwrap();
    fs::write(pb.path().join("group_vars/web.json"), r#"{"level": "pb_web"}"#).unwrap();
    fs::write(pb.path().join("group_vars/all"), "from_gv_all: 2\n").unwrap();
    inv.load_vars_dirs(pb.path()).unwrap();
    assert_eq!(inv.host_vars("web01")["level"], json!("pb_web"));
    assert_eq!(inv.host_vars("web01")["from_gv_all"], json!(2));
    assert_eq!(inv.host_vars("web02")["level"], json!("hv_web02"));
}

#[test]
fn patterns() {
    let (_d, inv) = fixture();
    let m = |p: &str| inv.hosts_matching(p);
    assert_eq!(m("app:!db-a:&web*"), ["web01", "web02", "web03"]);
    assert_eq!(m("~web0[12]"), ["web01", "web02"]);
    assert_eq!(m("web[1:2],bastion"), ["web02", "web03", "bastion"]);
    assert_eq!(m("db*"), ["db-a", "db-b"]);
    assert_eq!(m("ungrouped:db"), ["bastion", "db-a", "db-b"]);
    assert_eq!(m("all").len(), 6);
    assert_eq!(m("*").len(), 6);
    assert_eq!(m("web:&db"), ["db-a"]);
    assert_eq!(m("web01"), ["web01"]);
    assert_eq!(m("web[0]"), ["web01"]);
    assert_eq!(m("web[-1]"), ["db-a"]);
    assert_eq!(m("!web"), ["bastion", "db-b"]);
    assert!(m("nosuch").is_empty());
}

#[test]
fn yaml_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("inv.yml");
    fs::write(
        &f,
        "all:\n  vars:\n    ntp: ntp.example.org\n  hosts:\n    bastion:\n      ansible_host: 192.0.2.10\n  children:\n    gpu:\n      hosts:\n        gpu[1:2]:\n          cuda: yes\n        gpu9:2200:\n      vars:\n        mode: 0755\n    login:\n      children:\n        gpu:\n",
    )
    .unwrap();
    let inv = Inventory::load(&f).unwrap();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["bastion", "gpu1", "gpu2", "gpu9"]);
    assert_eq!(inv.hosts_matching("login"), ["gpu1", "gpu2", "gpu9"]);
    let v = inv.host_vars("gpu2");
    assert_eq!(v["cuda"], json!(true));
    assert_eq!(v["mode"], json!(493));
    assert_eq!(v["ntp"], json!("ntp.example.org"));
    assert_eq!(inv.host_vars("gpu9")["ansible_port"], json!(2200));
    assert_eq!(inv.group_names("gpu1"), ["gpu", "login"]);
    assert_eq!(inv.groups["ungrouped"].hosts, ["bastion"]); // as `ansible-inventory --graph`
}

#[test]
fn directory_inventory_reads_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("01-hosts"), "[web]\nw1\n").unwrap();
    fs::write(d.join("02-more.yml"), "db:\n  hosts:\n    d1:\n").unwrap();
    fs::write(d.join("notes.md"), "not an inventory [\n").unwrap();
    fs::create_dir_all(d.join("group_vars")).unwrap();
    fs::write(d.join("group_vars/db.yml"), "x: 1\n").unwrap();
    let inv = Inventory::load(d).unwrap();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["w1", "d1"]);
    assert_eq!(inv.host_vars("d1")["x"], json!(1));
}

fn ini_err(text: &str) -> mdxconf_config::error::ConfigError {
    Inventory::parse_str(text, Path::new("inv.ini")).unwrap_err()
}

#[test]
fn malformed_ini_errors_name_line_and_column() {
    let e = ini_err("[web]\nw1\n[web:child]\nx\n");
    assert_eq!((e.line, e.col), (3, 6), "{e}");
    assert!(e.to_string().starts_with("inv.ini:3:6: section [web:child] has unknown type: child"), "{e}");

    let e = ini_err("[web]\nw1 ansible_user=u bogus\n");
    assert_eq!((e.line, e.col), (2, 19), "{e}");
    assert!(e.message.contains("expected key=value host variable assignment, got: bogus"), "{e}");

    let e = ini_err("[all:children]\nweb\n\n[web:children]\nnosuch\n");
    assert_eq!((e.line, e.col), (5, 1), "{e}");
    assert!(e.message.contains("[web:children] includes undefined group: nosuch"), "{e}");

    let e = ini_err("[ghost:vars]\na=1\n");
    assert_eq!((e.line, e.col), (1, 1), "{e}");

    let e = ini_err("[web]\n  w1 x=\"unterminated\n");
    assert_eq!((e.line, e.col), (2, 8), "{e}");
    assert!(e.message.contains("no closing quotation"), "{e}");

    let e = ini_err("[web vm]\n");
    assert_eq!((e.line, e.col), (1, 1), "{e}");

    let e = ini_err("[web:vars]\nnovalue\n[web]\n");
    assert_eq!((e.line, e.col), (2, 1), "{e}");
}

#[test]
fn malformed_yaml_inventory_errors() {
    let e = Inventory::parse_str("all:\n  hosts:\n    a:\n  host:\n    b:\n", Path::new("i.yml")).unwrap_err();
    assert_eq!((e.line, e.col), (4, 3), "{e}");
    assert!(e.message.contains("unexpected key 'host'"), "{e}");
}

#[test]
fn python_literals() {
    assert_eq!(literal_eval("0x1f"), Some(json!(31)));
    assert_eq!(literal_eval("-3"), Some(json!(-3)));
    assert_eq!(literal_eval("1.5"), Some(json!(1.5)));
    assert_eq!(literal_eval("None"), Some(json!(null)));
    assert_eq!(literal_eval("{'a': [1, (2, 3)], 'b': False}"), Some(json!({"a": [1, [2, 3]], "b": false})));
    assert_eq!(literal_eval("'it\\'s'"), Some(json!("it's")));
    assert_eq!(literal_eval("10.1.2.3"), None);
    assert_eq!(literal_eval("yes"), None);
    assert_eq!(literal_eval("0644"), None);
    assert_eq!(literal_eval("1_000"), Some(json!(1000)));
}

#[test]
fn comma_separated_host_list() {
    let inv = Inventory::load(Path::new("web1,web2:2222,10.0.0.5,")).unwrap();
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["web1", "web2", "10.0.0.5"]);
    assert_eq!(inv.groups["ungrouped"].hosts, ["web1", "web2", "10.0.0.5"]);
    assert_eq!(inv.host_vars("web2")["ansible_port"], json!(2222));
    assert_eq!(inv.hosts_matching("all").len(), 3);
}
