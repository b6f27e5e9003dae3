//! Rendering strings, values and template files; strict undefined errors with file:line:col.
use mdxconf_config::template::Templater;
use mdxconf_config::yaml::{load_list, NodeKind, Origin};
use serde_json::{json, Value};
use std::path::Path;

fn ctx() -> Value {
    json!({"name": "web01", "ports": [80, 443], "conf": {"a": 1}, "flag": false, "n": 3, "s": "no",
           "hostvars": {"web01": {"ethipv4": "10.1.2.3"}, "web02": {"ethipv4": "10.1.2.4"}},
           "groups": {"all": ["web01", "web02"]}})
}

fn o() -> Origin {
    Origin::new(Path::new("play.yml"), 7, 9)
}

#[test]
fn single_expression_keeps_native_type() {
    let t = Templater::new();
    let v = json!({
        "list": "{{ ports }}", "dict": "{{ conf }}", "int": "{{ n + 1 }}", "bool": "{{ flag }}",
        "ws": "{{- ports -}}", "text": "port {{ ports[0] }}", "spaced": " {{ n }}",
        "nested": [{"x": "{{ name }}"}, "{{ ports | length }}"], "plain": 5,
        "raw": "{% raw %}{{ not_rendered }}{% endraw %}",
        "{{ name }}_key": "k",
    });
    let r = t.render_value(&v, &ctx(), &o()).unwrap();
    assert_eq!(
        r,
        json!({
            "list": [80, 443], "dict": {"a": 1}, "int": 4, "bool": false, "ws": [80, 443],
            "text": "port 80", "spaced": " 3", "nested": [{"x": "web01"}, 2], "plain": 5,
            "raw": "{{ not_rendered }}", "web01_key": "k",
        })
    );
}

#[test]
fn hostvars_lookup_works() {
    let t = Templater::new();
    let r = t.render_str("{% for h in groups['all'] %}{{ hostvars[h].ethipv4 }} {{ hostvars[h]['ethipv4'] }}\n{% endfor %}", &ctx(), &o()).unwrap();
    assert_eq!(r, "10.1.2.3 10.1.2.3\n10.1.2.4 10.1.2.4\n");
}

#[test]
fn conditions() {
    let t = Templater::new();
    let c = |v: Value| t.eval_condition(&v, &ctx(), &o()).unwrap();
    assert!(c(json!("name == 'web01'")));
    assert!(!c(json!("flag")));
    assert!(c(json!("s")), "the string 'no' is truthy in Jinja");
    assert!(!c(json!("s | bool")));
    assert!(c(json!(["n > 1", "80 in ports"])));
    assert!(!c(json!(["n > 1", "n > 5"])));
    assert!(c(json!("{{ n == 3 }}")));
    assert!(c(json!("{{ n }} == 3")), "templated first, then evaluated");
    assert!(c(json!(true)));
    assert!(c(json!("undefined_thing is not defined")));
    assert_eq!(t.eval_expr("ports | first", &ctx(), &o()).unwrap(), json!(80));
}

#[test]
fn strict_undefined_in_string_names_variable_and_position() {
    let t = Templater::new();
    let e = t.render_str("port {{ foo }}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'foo' is undefined"), "{e}");
    assert_eq!((e.file.as_path(), e.line, e.col), (Path::new("play.yml"), 7, 17), "{e}");
    // second line of a multi-line string
    let e = t.render_str("a\nb {{ conf.missing }}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'dict object' has no attribute 'missing'"), "{e}");
    assert_eq!((e.line, e.col), (8, 6), "{e}");
    assert!(e.message.ends_with("(in `b {{ conf.missing }}`)"), "{e}");
    // native single expression
    let e = t.render_value(&json!({"k": "{{ nope | upper }}"}), &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'nope' is undefined"), "{e}");
    let e = t.render_value(&json!("{{ nope }}"), &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'nope' is undefined"), "{e}");
    let e = t.eval_condition(&json!("missing_var == 1"), &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'missing_var' is undefined"), "{e}");
    let e = t.eval_condition(&json!("missing_flag"), &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'missing_flag' is undefined"), "{e}");
    assert!(e.to_string().starts_with("play.yml:7:"), "{e}");
}

#[test]
fn undefined_in_task_file_points_into_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("main.yml");
    std::fs::write(&f, "- name: first\n  debug:\n    msg: ok\n- name: second\n  copy:\n    dest: /etc/{{ missing_dir }}/x\n").unwrap();
    let tasks = load_list(&f).unwrap();
    let t = Templater::new();
    let e = t.render_value(&tasks[1].value, &ctx(), &tasks[1].origin).unwrap_err();
    assert!(e.message.contains("'missing_dir' is undefined"), "{e}");
    assert_eq!(e.file, f);
    assert_eq!(e.line, 4, "{e}");
}

#[test]
fn render_node_points_at_the_failing_string() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("main.yml");
    std::fs::write(&f, "- name: second\n  copy:\n    src: a\n    dest: /etc/{{ missing_dir }}/x\n").unwrap();
    let root = mdxconf_config::yaml::load_nodes(&f).unwrap();
    let NodeKind::Seq(tasks) = &root.kind else { panic!() };
    let t = Templater::new();
    let e = t.render_node(&tasks[0], &Templater::context(&ctx())).unwrap_err();
    assert_eq!((e.line, e.col), (4, 19), "{e}"); // the `m` of missing_dir
    assert!(e.message.contains("'missing_dir' is undefined"), "{e}");
    let ok = t.render_node(tasks[0].get("copy").unwrap().get("src").unwrap(), &Templater::context(&ctx())).unwrap();
    assert_eq!(ok, json!("a"));
}

#[test]
fn syntax_error_in_string() {
    let t = Templater::new();
    let e = t.render_str("x {{ name | }}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("syntax error"), "{e}");
    assert_eq!(e.line, 7);
}

#[test]
fn template_file_keeps_trailing_newline_and_trims_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hosts.j2");
    std::fs::write(&f, "# {{ name }}\n{% for p in ports %}\nport={{ p }}\n{% endfor %}\nflag={{ flag }}\n").unwrap();
    let out = Templater::new().render_file(&f, &ctx()).unwrap();
    assert_eq!(out, "# web01\nport=80\nport=443\nflag=False\n");
    std::fs::write(&f, "a={{ n }}\n\n").unwrap();
    assert_eq!(Templater::new().render_file(&f, &ctx()).unwrap(), "a=3\n\n");
}

#[test]
fn template_file_header_overrides_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.j2");
    std::fs::write(&f, "#jinja2: trim_blocks: False, lstrip_blocks: True\n  {% if true %}\nx\n  {% endif %}\n").unwrap();
    assert_eq!(Templater::new().render_file(&f, &ctx()).unwrap(), "\nx\n\n");
}

#[test]
fn template_file_include_is_relative() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("part.j2"), "part {{ name }}\n").unwrap();
    let f = dir.path().join("main.j2");
    std::fs::write(&f, "head\n{% include 'part.j2' %}tail\n").unwrap();
    assert_eq!(Templater::new().render_file(&f, &ctx()).unwrap(), "head\npart web01\ntail\n");
    // an error inside the included file names that file and its line
    std::fs::write(dir.path().join("part.j2"), "ok\n{{ nope }}\n").unwrap();
    let e = Templater::new().render_file(&f, &ctx()).unwrap_err();
    assert_eq!((e.file.clone(), e.line, e.col), (dir.path().join("part.j2"), 2, 4), "{e}");
    assert!(e.message.contains("'nope' is undefined"), "{e}");
}

#[test]
fn template_file_undefined_error_has_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("motd.j2");
    std::fs::write(&f, "Welcome to {{ name }}\n\nYour quota: {{ quota_gb }} GB\n").unwrap();
    let e = Templater::new().render_file(&f, &ctx()).unwrap_err();
    assert_eq!(e.file, f);
    assert_eq!((e.line, e.col), (3, 16), "{e}");
    assert!(e.message.contains("'quota_gb' is undefined"), "{e}");
    assert!(e.to_string().ends_with("motd.j2:3:16: template error: 'quota_gb' is undefined"), "{e}");
    // after a #jinja2 header, lines still count from the file's first line
    std::fs::write(&f, "#jinja2: lstrip_blocks: True\nok\n{{ nope }}\n").unwrap();
    let e = Templater::new().render_file(&f, &ctx()).unwrap_err();
    assert_eq!((e.line, e.col), (3, 4), "{e}");
}

/// A loop over a missing group blames the group, not the loop variable (the reverse_proxy template
/// once said "'h' is undefined" for `{% for h in groups[jupyter_host_group] %}`).
#[test]
fn loop_over_a_missing_key_names_the_key_not_the_loop_variable() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("proxy.j2");
    std::fs::write(&f, "# proxy\n{% for h in groups[backend_group] %}\nserver {{ hostvars[h].ethipv4 }};\n{% endfor %}\n").unwrap();
    let e = Templater::new().render_file(&f, &json!({"groups": {"all": ["web01"]}, "backend_group": "jupyter", "hostvars": {}})).unwrap_err();
    assert!(e.message.contains("'dict object' has no attribute 'jupyter'"), "{e}");
    assert_eq!(e.line, 2, "{e}");
    let e = Templater::new().render_file(&f, &json!({"groups": {"all": ["web01"]}, "hostvars": {}})).unwrap_err();
    assert!(e.message.contains("'backend_group' is undefined"), "{e}");
    // set-bound names are not blamed either; the undefined input is
    std::fs::write(&f, "{% set port = base + 1 %}{{ port }}\n").unwrap();
    let e = Templater::new().render_file(&f, &ctx()).unwrap_err();
    assert!(e.message.contains("'base' is undefined"), "{e}");
    // with everything defined it renders
    std::fs::write(&f, "{% for h in groups[g] %}{{ hostvars[h].ethipv4 }} {% endfor %}\n").unwrap();
    let mut c = ctx();
    c["g"] = json!("all");
    assert_eq!(Templater::new().render_file(&f, &c).unwrap(), "10.1.2.3 10.1.2.4 ");
    // trim_blocks, as Ansible
}

#[test]
fn template_file_syntax_error_has_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.j2");
    std::fs::write(&f, "line1\n{% if x %}\nno end\n").unwrap();
    let e = Templater::new().render_file(&f, &ctx()).unwrap_err();
    assert_eq!(e.file, f);
    assert!(e.line >= 2, "{e}");
    assert!(e.message.contains("syntax error"), "{e}");
}

#[test]
fn ansible_managed_default() {
    let t = Templater::new();
    assert_eq!(t.render_str("# {{ ansible_managed }}", &ctx(), &o()).unwrap(), "# Ansible managed");
    assert_eq!(t.render_str("# {{ ansible_managed }}", &json!({"ansible_managed": "mdxconf"}), &o()).unwrap(), "# mdxconf");
}

#[test]
fn defined_and_default_on_attributes_of_undefined_like_ansible() {
    let t = Templater::new();
    let r = |s: &str| t.render_str(s, &ctx(), &o()).unwrap();
    assert_eq!(r("{{ nfs.server is defined }}"), "False");
    assert_eq!(r("{{ nfs.server is not defined }}"), "True");
    assert_eq!(r("{{ nfs.server | default('none') }}"), "none");
    assert_eq!(r("{{ conf.b.c | default(1) }}"), "1");
    // but printing or testing the undefined value itself still fails
    let e = t.render_str("{{ nfs.server }}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'nfs' is undefined"), "{e}");
    let e = t.render_str("{% if undefined_flag %}x{% endif %}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'undefined_flag' is undefined"), "{e}");
    let e = t.render_str("{{ nfs.server | default('x') }} {{ typo_var }}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'typo_var' is undefined"), "{e}");
    let e = t.render_str("{% for i in nope %}{{ i }}{% endfor %}", &ctx(), &o()).unwrap_err();
    assert!(e.message.contains("'nope' is undefined"), "{e}");
}

#[test]
fn templater_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Templater>();
    let t = std::sync::Arc::new(Templater::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || t.render_str("{{ n * 2 }}", &json!({"n": i}), &o()).unwrap())
        })
        .collect();
    let out: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(out, ["0", "2", "4", "6"]);
}
