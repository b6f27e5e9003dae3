//! YAML with Ansible's (PyYAML, YAML 1.1) meaning, and located errors.
use mdxconf_config::yaml::{load_list, parse_str};
use serde_json::json;
use std::path::Path;

fn p(s: &str) -> serde_json::Value {
    parse_str(s, Path::new("t.yml")).unwrap()
}

#[test]
fn octal_mode_is_integer_and_quoted_mode_is_string() {
    let v = p("mode: 0644\nq: \"0644\"\ns: '0755'\nd: 644\nhex: 0x1F\n");
    assert_eq!(v, json!({"mode": 420, "q": "0644", "s": "0755", "d": 644, "hex": 31}));
}

#[test]
fn yaml11_booleans_like_pyyaml() {
    let v = p("a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: YES\nh: y\ni: n\nj: 'yes'\nk: Off\n");
    assert_eq!(
        v,
        json!({"a": true, "b": false, "c": true, "d": false, "e": true, "f": false, "g": true,
               "h": "y", "i": "n", "j": "yes", "k": false})
    );
}

#[test]
fn nulls_floats_and_strings() {
    let v = p("a: ~\nb: null\nc:\nd: 1.5\ne: 1e3\nf: 10.1.2.3\ng: 1.10\n");
    assert_eq!(v, json!({"a": null, "b": null, "c": null, "d": 1.5, "e": "1e3", "f": "10.1.2.3", "g": 1.1}));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let v = p("base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n");
    assert_eq!(v["other"], json!({"x": 1, "y": 3}));
    assert_eq!(v["list"], json!([{"x": 1, "y": 2}]));
}

#[test]
fn duplicate_keys_last_wins() {
    assert_eq!(p("a: 1\na: 2\n"), json!({"a": 2}));
}

#[test]
fn empty_file_is_null_and_empty_list() {
    assert_eq!(p("# only a comment\n"), serde_json::Value::Null);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("empty.yml");
    std::fs::write(&f, "---\n").unwrap();
    assert!(load_list(&f).unwrap().is_empty());
}

#[test]
fn load_list_keeps_each_item_origin() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tasks.yml");
    std::fs::write(&f, "---\n# tasks\n- name: one\n  debug: msg=1\n\n-   name: two\n    command: true\n").unwrap();
    let items = load_list(&f).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0].origin.line, items[0].origin.col), (3, 3));
    assert_eq!((items[1].origin.line, items[1].origin.col), (6, 5));
    assert_eq!(items[1].value["name"], json!("two"));
    assert_eq!(*items[0].origin.file, f);
}

#[test]
fn malformed_yaml_names_file_line_col() {
    let e = parse_str("a: 1\nb: [1, 2\nc: 3\n", Path::new("bad.yml")).unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with("bad.yml:"), "{s}");
    assert_eq!((e.line, e.col), (3, 2), "{s}");
    let e = parse_str("a:\n  - x\n  y: 2\n", Path::new("bad2.yml")).unwrap_err();
    assert_eq!((e.line, e.col), (3, 3), "{}", e);
}

#[test]
fn multiple_documents_are_an_error() {
    let e = parse_str("a: 1\n---\nb: 2\n", Path::new("multi.yml")).unwrap_err();
    assert!(e.message.contains("more than one YAML document"), "{}", e);
    assert_eq!((e.line, e.col), (3, 1));
}

#[test]
fn top_level_not_a_list_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tasks.yml");
    std::fs::write(&f, "name: x\n").unwrap();
    let e = load_list(&f).unwrap_err();
    assert!(e.message.contains("expected a YAML list"), "{}", e);
    assert_eq!((e.line, e.col), (1, 1));
}

#[test]
fn unsafe_tag_keeps_text_literal_through_templating() {
    let v = p("pw: !unsafe 'a{{b}}%{c'\nplain: !unsafe 'no jinja'\n");
    assert_eq!(v["plain"], json!("no jinja"));
    let t = mdxconf_config::template::Templater::new();
    let o = mdxconf_config::yaml::Origin::new(Path::new("t.yml"), 1, 1);
    assert_eq!(t.render_value(&v["pw"], &json!({}), &o).unwrap(), json!("a{{b}}%{c"));
}

#[test]
fn tags_and_yaml11_edge_scalars() {
    // as PyYAML: `0o17` is not YAML 1.1 (string), `1:30` is base 60 (90), a MAC address stays a string
    let v = p("a: !!str 0644\nb: 2001-01-01\nc: '~'\nd: 0o17\ne: 1:30\nf: '1:30'\ng: 00:11:22:33:44:55\n");
    assert_eq!(v, json!({"a": "0644", "b": "2001-01-01", "c": "~", "d": "0o17", "e": 90, "f": "1:30", "g": "00:11:22:33:44:55"}));
}

#[test]
fn tab_indentation_error_has_position() {
    let e = parse_str("a: 1\n\tb: 2\n", Path::new("tab.yml")).unwrap_err();
    assert!(e.to_string().starts_with("tab.yml:"), "{e}");
    assert!(e.message.contains("tab"), "{e}");
}
