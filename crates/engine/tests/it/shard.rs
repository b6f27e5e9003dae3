//! `--shard I/N` through the CLI: N runs cover every selected host exactly once, with `--limit`
//! too; a shard's retry file is its own; a bad shard is refused before anything runs.
use crate::common;
use common::*;
use std::collections::BTreeSet;

fn recap_hosts(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["recap"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn shards_cover_every_host_exactly_once() {
    let names: Vec<String> = (1..=10).rev().map(|k| format!("n{k:02}")).collect();
    let p = Project::local(&names.iter().map(String::as_str).collect::<Vec<_>>());
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  tasks:\n    - file: {path: \"{{ work }}\", state: directory}\n    - lineinfile: {path: \"{{ work }}/{{ inventory_hostname }}\", line: \"shard {{ shard }}\", create: true}\n");
    let all: BTreeSet<String> = names.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let (code, doc, err) = p.cli_json("site.yml", &["--shard", &shard, "-e", &format!("shard={i}")]);
        assert_eq!(code, 0, "{err}\n{doc:#}");
        let hosts = recap_hosts(&doc);
        assert!(hosts.len() == 3 || hosts.len() == 4, "10 hosts in 3 shards: {hosts:?}");
        assert!(seen.is_disjoint(&hosts), "shard {shard} repeats a host: {hosts:?}");
        seen.extend(hosts);
    }
    assert_eq!(seen, all);
    // each host's file got exactly one line: no host ran in two shards
    for h in &names {
        assert_eq!(read(&p.host_dir(h)).lines().count(), 1, "{h}");
    }

    // with --limit, the shards split the limited hosts
    let mut limited = BTreeSet::new();
    for i in 1..=2 {
        let (code, doc, err) = p.cli_json("site.yml", &["--limit", "n0*", "--shard", &format!("{i}/2"), "-e", "shard=x"]);
        assert_eq!(code, 0, "{err}");
        limited.extend(recap_hosts(&doc));
    }
    assert_eq!(limited, (1..=9).map(|k| format!("n{k:02}")).collect::<BTreeSet<_>>());

    // more shards than hosts: the extra shards have nothing to do and succeed
    let (code, _, err) = p.cli("site.yml", &["--limit", "n01", "--shard", "2/2", "-e", "shard=y"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&p.host_dir("n01")).lines().count(), 2, "n01 ran once more, in shard 1 only");
}

#[test]
fn a_shard_writes_its_own_retry_file_and_bad_shards_are_refused() {
    let p = Project::local(&["a", "b", "c", "d"]);
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  tasks:\n    - fail: {msg: down}\n      when: inventory_hostname == 'd'\n");
    let (code, doc, err) = p.cli_json("site.yml", &["--shard", "2/2"]);
    assert_eq!(code, 2, "d failed\n{err}");
    assert_eq!(recap_hosts(&doc), ["b", "d"].map(String::from).into_iter().collect());
    assert_eq!(read(&p.path("site.shard-2-of-2.retry")), "d\n");
    assert!(!p.path("site.retry").exists());
    for bad in ["0/2", "3/2", "1/0", "two"] {
        let (code, out, err) = p.cli("site.yml", &["--shard", bad]);
        assert_eq!(code, 2, "{bad}: {out}{err}");
        assert!(err.contains("I/N"), "{bad}: {err}");
        assert!(out.is_empty(), "nothing ran for {bad}: {out}");
    }
}
