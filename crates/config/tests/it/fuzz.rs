//! Fuzz targets (issue 16, "fuzzing as a habit"): inventories (INI and YAML), host patterns and ranges,
//! YAML, Jinja templates and expressions. Each gets the repository's own files as seeds, then random
//! mutations for MDXCONF_FUZZ_SECONDS; a panic or hang fails the test (see mdxconf_testkit::fuzz).
use mdxconf_config::inventory::{expand_host_range, Inventory};
use mdxconf_config::template::Templater;
use mdxconf_config::yaml::Origin;
use mdxconf_testkit::fuzz;
use std::path::{Path, PathBuf};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo(rel: &str) -> PathBuf {
    crate_dir().join("../..").join(rel)
}

const INVENTORY_SEEDS: &[&[u8]] = &[
    b"[web]\nnode[01:10] ansible_user=mdxuser\ndb-[a:c].example:2222\n[web:vars]\nx=1\n[all:children]\nweb\n",
    b"all:\n  children:\n    web:\n      hosts:\n        h[1:3]:\n          ansible_port: 22\n      vars: {a: [1, 2]}\n",
    b"[g]\n[::1]:22\nfe80::1\nh ansible_host=10.0.0.1 x=\"{'a': [1, 'b']}\"\n",
];

#[test]
fn inventories() {
    let seeds = fuzz::seeds(&[repo("crates/portal/tests/fixtures")], &[".ini"], INVENTORY_SEEDS);
    fuzz::run("inventory", crate_dir(), seeds, |b| {
        let _ = Inventory::parse_str(&String::from_utf8_lossy(b), Path::new("inventory"));
    });
}

#[test]
fn host_patterns_and_ranges() {
    let inv = Inventory::parse_str(std::str::from_utf8(INVENTORY_SEEDS[0]).unwrap(), Path::new("inv")).unwrap();
    let seeds: Vec<Vec<u8>> = ["node[01:10]", "h[1:9:2]", "db-[a:c]:22", "web:&db:!h1", "~^node0[1-3]$", "all[0:2]", "web[-1]", "h[99999999999999999999:1]"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    fuzz::run("host_patterns", crate_dir(), seeds, |b| {
        let s = String::from_utf8_lossy(b);
        let _ = expand_host_range(&s);
        let _ = inv.hosts_matching(&s);
    });
}

#[test]
fn yaml() {
    let seeds = fuzz::seeds(&[repo("playbooks"), repo("roles"), repo("images")], &[".yml", ".yaml"], &[b"a: &x [1, {b: *x}]\n<<: *x\n"]);
    fuzz::run("yaml", crate_dir(), seeds, |b| {
        let _ = mdxconf_config::yaml::parse_nodes(&String::from_utf8_lossy(b), Path::new("f.yml"));
    });
}

#[test]
fn templates_and_expressions() {
    let seeds = fuzz::seeds(&[repo("roles")], &[".j2"], &[b"{{ a | default('x') }} {% for i in range(3) %}{{ i }}{% endfor %}", b"a }} b", b"x is defined and y | bool"]);
    let t = Templater::new();
    let ctx = serde_json::json!({"a": 1, "x": "y", "items": [1, 2], "d": {"k": "v"}});
    let origin = Origin::new(Path::new("t.j2"), 1, 1);
    fuzz::run("templates", crate_dir(), seeds, |b| {
        let s = String::from_utf8_lossy(b);
        let _ = t.render_str(&s, &ctx, &origin);
        let _ = t.eval_expr(&s, &ctx, &origin);
        let _ = t.eval_condition(&serde_json::Value::String(s.into_owned()), &ctx, &origin);
    });
}
