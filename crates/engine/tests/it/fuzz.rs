//! Fuzz target: playbooks and roles as YAML, loaded and checked as `apply` does before any host is
//! touched (run::prepare: the grammar, module arguments against their specs, template syntax).
use mdxconf_engine::run::{prepare, ApplyOptions};
use mdxconf_testkit::fuzz;
use std::path::Path;

#[test]
fn playbooks() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = crate_dir.join("../..");
    let seeds = fuzz::seeds(
        &[repo.join("playbooks"), repo.join("roles")],
        &[".yml"],
        &[b"- hosts: all\n  tasks:\n    - copy: {content: x, dest: /tmp/x}\n      loop: [1]\n      when: x\n"],
    );
    let dir = tempfile::tempdir().unwrap();
    let (pb, inv) = (dir.path().join("site.yml"), dir.path().join("inventory.ini"));
    std::fs::write(&inv, "h1 ansible_connection=local\n").unwrap();
    let opts = ApplyOptions::default();
    fuzz::run("playbook", crate_dir, seeds, |b| {
        std::fs::write(&pb, b).unwrap();
        let _ = prepare(&pb, &inv, &opts);
    });
}
