//! `run::apply_files`, the entry point image builds use for provisioning (quiet, no retry file).
use crate::common;
use common::*;
use mdxconf_engine::run::{apply_files, ApplyOptions};

#[tokio::test]
async fn apply_files_returns_summary_and_config_errors() {
    let p = Project::local(&["h1", "h2"]);
    p.write("site.yml", "- hosts: web\n  gather_facts: false\n  tasks:\n    - file: {path: \"{{ work }}/{{ inventory_hostname }}\", state: directory}\n    - copy: {content: \"{{ msg }}\", dest: \"{{ work }}/{{ inventory_hostname }}/m\"}\n");
    let mut opts = ApplyOptions { limit: Some("h2".into()), ..Default::default() };
    opts.extra_vars.insert("msg".into(), "from-lib".into());
    let s = apply_files(&p.path("site.yml"), &p.inventory, &opts).await.unwrap();
    assert_eq!(s.hosts.keys().collect::<Vec<_>>(), vec!["h2"]);
    assert_eq!(s.total_changed(), 2);
    assert!(s.failed_hosts().is_empty());
    assert_eq!(read(&p.host_dir("h2").join("m")), "from-lib");
    assert!(!p.host_dir("h1").exists());
    assert!(!p.path("site.retry").exists());

    // a bad playbook is an Err carrying the ConfigError with its location
    p.write("bad.yml", "- hosts: web\n  tasks:\n    - copy: {dest: /tmp/x, content: \"{{ a | }}\"}\n");
    let e = apply_files(&p.path("bad.yml"), &p.inventory, &opts).await.unwrap_err();
    let ce = e.downcast_ref::<mdxconf_config::error::ConfigError>().expect("a ConfigError");
    assert_eq!(ce.line, 3);
    assert!(ce.file.ends_with("bad.yml"));
}
