//! Variable layers and `-e` extra vars.
use mdxconf_config::vars::{parse_extra_vars, VarLayers};
use serde_json::json;

fn m(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn layers_merge_in_ansible_order_with_top_level_replace() {
    let layers = VarLayers {
        role_defaults: m(json!({"a": "default", "b": "default", "d": {"x": 1, "y": 2}, "only_default": 1})),
        inventory: m(json!({"a": "inventory", "b": "inventory", "c": "inventory"})),
        gathered: m(json!({"c": "gathered", "g": "gathered", "h": "gathered"})),
        play_vars: m(json!({"b": "play", "g": "play"})),
        vars_files: m(json!({"b": "vars_files", "e": "vars_files"})),
        role_vars: m(json!({"e": "role_vars", "d": {"x": 9}})),
        facts: m(json!({"c": "fact"})),
        extra: m(json!({"a": "extra"})),
    };
    let v = layers.merged();
    assert_eq!(v["a"], json!("extra"));
    assert_eq!(v["b"], json!("vars_files"));
    assert_eq!(v["c"], json!("fact"));
    assert_eq!(v["g"], json!("play"), "play vars win over gathered facts");
    assert_eq!(v["h"], json!("gathered"), "gathered facts win over the inventory");
    assert_eq!(v["d"], json!({"x": 9}), "dicts replace, not merge (hash_behaviour=replace)");
    assert_eq!(v["e"], json!("role_vars"));
    assert_eq!(v["only_default"], json!(1));
}

#[test]
fn extra_vars_kv_file_and_inline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ev.yml"), "mode: 0644\nflag: yes\nlist: [1, 2]\n").unwrap();
    std::fs::write(dir.path().join("ev.json"), r#"{"j": {"k": 1}}"#).unwrap();
    let args: Vec<String> =
        ["a=1 b=\"two words\" c='x=y'", "@ev.yml", "@ev.json", r#"{"inline": true, "a": 5}"#, "{yaml_inline: on}", "path=/etc/foo\\=bar"].iter().map(|s| s.to_string()).collect();
    let v = parse_extra_vars(&args, dir.path()).unwrap();
    assert_eq!(v["a"], json!(5), "later -e wins");
    assert_eq!(v["b"], json!("two words"));
    assert_eq!(v["c"], json!("x=y"));
    assert_eq!(v["mode"], json!(420));
    assert_eq!(v["flag"], json!(true));
    assert_eq!(v["list"], json!([1, 2]));
    assert_eq!(v["j"], json!({"k": 1}));
    assert_eq!(v["inline"], json!(true));
    assert_eq!(v["yaml_inline"], json!(true));
    assert_eq!(v["path"], json!("/etc/foo=bar"));
    let v = parse_extra_vars(&["n=1".to_string()], dir.path()).unwrap();
    assert_eq!(v["n"], json!("1"), "k=v values stay strings like Ansible");
}

#[test]
fn extra_vars_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = parse_extra_vars(&["a=1 oops".to_string()], dir.path()).unwrap_err();
    assert_eq!((e.line, e.col), (1, 5), "{e}");
    assert!(e.message.contains("expected key=value"), "{e}");
    let e = parse_extra_vars(&["@missing.yml".to_string()], dir.path()).unwrap_err();
    assert!(e.message.contains("cannot read file"), "{e}");
    assert!(e.file.ends_with("missing.yml"));
    std::fs::write(dir.path().join("bad.yml"), "a: [1,\n").unwrap();
    let e = parse_extra_vars(&["@bad.yml".to_string()], dir.path()).unwrap_err();
    assert!(e.file.ends_with("bad.yml") && e.line >= 1, "{e}");
    let e = parse_extra_vars(&["[1, 2]".to_string()], dir.path()).unwrap_err();
    assert!(e.message.contains("must be a mapping"), "{e}");
}
