//! Every Ansible filter we provide, with real expected values (checked against Ansible 2.14's
//! output where Ansible has the filter built in).
use mdxconf_config::template::Templater;
use mdxconf_config::yaml::Origin;
use serde_json::{json, Value};
use std::path::Path;

fn origin() -> Origin {
    Origin::new(Path::new("roles/x/tasks/main.yml"), 10, 5)
}

fn ctx() -> Value {
    json!({
        "name": "web01",
        "port": 8080,
        "flag": "yes",
        "empty": "",
        "nothing": null,
        "list": [3, 1, 2, 3],
        "other": [2, 5],
        "nested": [[1, [2]], 3, null],
        "users": [{"name": "alice", "uid": 1000, "admin": true, "keys": ["k1", "k2"]},
                  {"name": "bob", "uid": 1001, "admin": false, "keys": ["k3"]}],
        "d": {"a": 1, "b": {"x": 1, "l": [1]}},
        "d2": {"b": {"y": 2, "l": [2]}, "c": 3},
        "path": "/etc/ssh/sshd_config",
        "ip": "10.1.2.3/21",
        "hostvars": {"web01": {"ansible_host": "192.0.2.1"}, "web02": {"ansible_host": "192.0.2.2"}},
        "groups": {"web": ["web01", "web02"]},
        "result_ok": {"changed": true, "failed": false, "rc": 0},
        "result_bad": {"changed": false, "failed": true, "rc": 1},
        "result_skip": {"changed": false, "skipped": true},
    })
}

fn r(t: &str) -> String {
    Templater::new().render_str(t, &ctx(), &origin()).unwrap_or_else(|e| panic!("{t}: {e}"))
}

fn v(t: &str) -> Value {
    Templater::new().render_value(&json!(t), &ctx(), &origin()).unwrap_or_else(|e| panic!("{t}: {e}"))
}

#[test]
fn default_and_d() {
    assert_eq!(r("{{ missing | default('x') }}"), "x");
    assert_eq!(r("{{ missing | d('y') }}"), "y");
    assert_eq!(r("{{ empty | default('z') }}"), "");
    assert_eq!(r("{{ empty | default('z', true) }}"), "z");
    assert_eq!(r("{{ name | default('z') }}"), "web01");
    assert_eq!(v("{{ missing | default(omit_list) if false else 5 }}"), json!(5));
}

#[test]
fn json_and_yaml() {
    assert_eq!(r("{{ d | to_json }}"), r#"{"a": 1, "b": {"x": 1, "l": [1]}}"#);
    assert_eq!(r("{{ d | to_nice_json }}"), "{\n    \"a\": 1,\n    \"b\": {\n        \"l\": [\n            1\n        ],\n        \"x\": 1\n    }\n}");
    assert_eq!(r("{{ 'é' | to_json }}"), r#""\u00e9""#);
    assert_eq!(r("{{ d | to_yaml }}"), "a: 1\nb:\n  l: [1]\n  x: 1\n");
    assert_eq!(
        r("{{ users | to_nice_yaml }}"),
        "-   admin: true\n    keys:\n    - k1\n    - k2\n    name: alice\n    uid: 1000\n-   admin: false\n    keys:\n    - k3\n    name: bob\n    uid: 1001\n"
    );
    assert_eq!(r("{{ {'mode': '0644', 'on': 'yes', 'e': '', 'd': '2020-01-01'} | to_nice_yaml }}"), "d: '2020-01-01'\ne: ''\nmode: '0644'\n'on': 'yes'\n");
    assert_eq!(r("{{ 'abc' | to_yaml }}"), "abc\n");
    assert_eq!(v("{{ 'a: [1, 2]\nb: yes' | from_yaml }}"), json!({"a": [1, 2], "b": true}));
    assert_eq!(v("{{ '{\"k\": [1, null]}' | from_json }}"), json!({"k": [1, null]}));
}

#[test]
fn regex_filters() {
    assert_eq!(r("{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\\1') }}"), "able");
    assert_eq!(r("{{ 'foo=bar' | regex_replace('(?P<k>\\w+)=(?P<v>\\w+)', '\\g<v>:\\g<k>') }}"), "bar:foo");
    assert_eq!(r("{{ 'AbC' | regex_replace('b', 'x', ignorecase=True) }}"), "AxC");
    assert_eq!(r("{{ 'cost 5 $' | regex_replace('\\d', '$') }}"), "cost $ $");
    assert_eq!(r("{{ 'server1/database42' | regex_search('database[0-9]+') }}"), "database42");
    assert_eq!(v("{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\\1', '\\2') }}"), json!(["1", "42"]));
    assert_eq!(v("{{ 'abc' | regex_search('x') }}"), json!(null));
    assert_eq!(v("{{ 'a1b22c333' | regex_findall('\\d+') }}"), json!(["1", "22", "333"]));
    assert_eq!(v("{{ 'k1=v1 k2=v2' | regex_findall('(\\w+)=(\\w+)') }}"), json!([["k1", "v1"], ["k2", "v2"]]));
    assert_eq!(r("{{ 'a.b' | regex_escape }}"), "a\\.b");
}

#[test]
fn combine_and_dict_items() {
    assert_eq!(v("{{ d | combine(d2) }}"), json!({"a": 1, "b": {"y": 2, "l": [2]}, "c": 3}));
    assert_eq!(v("{{ d | combine(d2, recursive=True) }}"), json!({"a": 1, "b": {"x": 1, "l": [2], "y": 2}, "c": 3}));
    assert_eq!(v("{{ d | combine(d2, recursive=True, list_merge='append') }}"), json!({"a": 1, "b": {"x": 1, "l": [1, 2], "y": 2}, "c": 3}));
    assert_eq!(v("{{ {'a': 1} | combine([{'b': 2}, {'a': 3}]) }}"), json!({"a": 3, "b": 2}));
    assert_eq!(v("{{ {'a': 1, 'b': 2} | dict2items }}"), json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}]));
    assert_eq!(v("{{ {'a': 1} | dict2items(key_name='k', value_name='v') }}"), json!([{"k": "a", "v": 1}]));
    assert_eq!(v("{{ [{'key': 'a', 'value': 1}] | items2dict }}"), json!({"a": 1}));
    assert_eq!(v("{{ users | items2dict(key_name='name', value_name='uid') }}"), json!({"alice": 1000, "bob": 1001}));
}

#[test]
fn ternary_bool_and_types() {
    assert_eq!(r("{{ (port == 8080) | ternary('yes', 'no') }}"), "yes");
    assert_eq!(r("{{ nothing | ternary('t', 'f', 'n') }}"), "n");
    for (s, b) in [("yes", true), ("on", true), ("1", true), ("true", true), ("True", true), ("no", false), ("off", false), ("0", false), ("false", false), ("x", false)] {
        assert_eq!(v(&format!("{{{{ '{s}' | bool }}}}")), json!(b), "{s}");
    }
    assert_eq!(v("{{ 1 | bool }}"), json!(true));
    assert_eq!(v("{{ nothing | bool }}"), json!(false));
    assert_eq!(v("{{ flag | bool }}"), json!(true));
    assert_eq!(v("{{ '42' | int }}"), json!(42));
    assert_eq!(v("{{ '1.5' | float }}"), json!(1.5));
    assert_eq!(v("{{ port | string }}"), json!("8080"));
    assert_eq!(v("{{ true | string }}"), json!("True"));
    assert_eq!(v("{{ 'ab' | list }}"), json!(["a", "b"]));
    assert_eq!(r("{{ d | type_debug }} {{ list | type_debug }} {{ name | type_debug }} {{ port | type_debug }} {{ nothing | type_debug }}"), "dict list str int NoneType");
    assert_eq!(r("{{ name | mandatory }}"), "web01");
    let e = Templater::new().render_str("{{ missing | mandatory('set missing in group_vars') }}", &ctx(), &origin()).unwrap_err();
    assert!(e.message.contains("set missing in group_vars"), "{e}");
}

#[test]
fn paths() {
    assert_eq!(r("{{ path | basename }}"), "sshd_config");
    assert_eq!(r("{{ path | dirname }}"), "/etc/ssh");
    assert_eq!(v("{{ 'archive.tar.gz' | splitext }}"), json!(["archive.tar", ".gz"]));
    assert_eq!(v("{{ '/a/.bashrc' | splitext }}"), json!(["/a/.bashrc", ""]));
    let home = std::env::var("HOME").unwrap();
    assert_eq!(r("{{ '~/x' | expanduser }}"), format!("{home}/x"));
    assert_eq!(r("{{ ['/etc', 'ssh', 'sshd_config'] | path_join }}"), "/etc/ssh/sshd_config");
    assert_eq!(r("{{ '/etc/../etc/./hostname' | realpath }}"), "/etc/hostname");
    assert_eq!(r("{{ '/a/b/' | dirname }} {{ 'file' | dirname }}|{{ '/a/b/' | basename }}|"), "/a/b ||");
    // os.path semantics
}

#[test]
fn base64_and_hashes() {
    assert_eq!(r("{{ 'hello' | b64encode }}"), "aGVsbG8=");
    assert_eq!(r("{{ 'aGVsbG8=' | b64decode }}"), "hello");
    assert_eq!(r("{{ 'hello' | hash('sha1') }}"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert_eq!(r("{{ 'hello' | hash('md5') }}"), "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(r("{{ 'hello' | hash('sha256') }}"), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_eq!(r("{{ 'hello' | checksum }}"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert_eq!(r("{{ 'hello' | sha1 }}"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert_eq!(r("{{ 'hello' | md5 }}"), "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(r("{{ 'hello' | hash('sha512') }}").len(), 128);
    assert!(Templater::new().render_str("{{ 'x' | hash('whirlpool') }}", &ctx(), &origin()).is_err());
}

#[test]
fn password_hash_matches_crypt() {
    // reference: `openssl passwd -6 -salt saltsalt secret`
    assert_eq!(r("{{ 'secret' | password_hash('sha512', 'saltsalt') }}"), "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1");
    // `openssl passwd -5 -salt saltsalt secret`
    assert_eq!(r("{{ 'secret' | password_hash('sha256', 'saltsalt') }}"), "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA");
    let random = r("{{ 'secret' | password_hash('sha512') }}");
    assert!(random.starts_with("$6$") && random.len() > 90, "{random}");
    let e = Templater::new().render_str("{{ 'x' | password_hash('bcrypt') }}", &ctx(), &origin()).unwrap_err();
    assert!(e.message.contains("not supported"), "{e}");
}

#[test]
fn ipaddr_helpers() {
    assert_eq!(r("{{ ip | ipaddr('network/prefix') }}"), "10.1.0.0/21");
    assert_eq!(r("{{ ip | ipaddr('address') }}"), "10.1.2.3");
    assert_eq!(r("{{ ip | ipaddr('network') }}"), "10.1.0.0");
    assert_eq!(v("{{ ip | ipaddr('prefix') }}"), json!(21));
    assert_eq!(r("{{ ip | ipaddr('netmask') }}"), "255.255.248.0");
    assert_eq!(r("{{ ip | ipaddr('broadcast') }}"), "10.1.7.255");
    assert_eq!(v("{{ ip | ipaddr('size') }}"), json!(2048));
    assert_eq!(r("{{ '10.1.2.3/255.255.248.0' | ipaddr('network/prefix') }}"), "10.1.0.0/21");
    assert_eq!(r("{{ '10.0.0.0/24' | ipaddr(5) }}"), "10.0.0.5/24");
    assert_eq!(v("{{ 'not-an-ip' | ipaddr }}"), json!(false));
    assert_eq!(v("{{ ['10.0.0.1', 'x', 'fe80::1'] | ipaddr }}"), json!(["10.0.0.1", "fe80::1"]));
    assert_eq!(v("{{ ['10.0.0.1', 'fe80::1'] | ipv4 }}"), json!(["10.0.0.1"]));
    assert_eq!(v("{{ ['10.0.0.1', 'fe80::1'] | ipv6 }}"), json!(["fe80::1"]));
    assert_eq!(r("{{ '2001:db8::1/64' | ipv6('network/prefix') }}"), "2001:db8::/64");
    assert_eq!(r("{{ '10.0.0.1' | ipmath(5) }}"), "10.0.0.6");
    assert_eq!(r("{{ '10.0.0.0/16' | ipsubnet(24, 2) }}"), "10.0.2.0/24");
}

#[test]
fn list_filters() {
    assert_eq!(v("{{ list | unique }}"), json!([3, 1, 2]));
    assert_eq!(v("{{ list | union(other) }}"), json!([3, 1, 2, 5]));
    assert_eq!(v("{{ list | intersect(other) }}"), json!([2]));
    assert_eq!(v("{{ list | difference(other) }}"), json!([3, 1]));
    assert_eq!(v("{{ list | symmetric_difference(other) }}"), json!([3, 1, 5]));
    assert_eq!(v("{{ nested | flatten }}"), json!([1, 2, 3]));
    assert_eq!(v("{{ nested | flatten(1) }}"), json!([1, [2], 3]));
    assert_eq!(v("{{ list | min }}"), json!(1));
    assert_eq!(v("{{ list | max }}"), json!(3));
    assert_eq!(v("{{ list | sum }}"), json!(9));
    assert_eq!(v("{{ list | select('gt', 1) | list }}"), json!([3, 2, 3]));
    assert_eq!(v("{{ list | reject('gt', 1) | list }}"), json!([1]));
    assert_eq!(v("{{ users | selectattr('admin') | map(attribute='name') | list }}"), json!(["alice"]));
    assert_eq!(v("{{ users | rejectattr('admin') | map(attribute='uid') | list }}"), json!([1001]));
    assert_eq!(r("{{ list | join(',') }}"), "3,1,2,3");
    assert_eq!(v("{{ list | length }}"), json!(4));
    assert_eq!(v("{{ list | first }}"), json!(3));
    assert_eq!(v("{{ list | last }}"), json!(3));
    assert_eq!(v("{{ list | sort }}"), json!([1, 2, 3, 3]));
    assert_eq!(v("{{ users | sort(attribute='uid', reverse=true) | map(attribute='name') | list }}"), json!(["bob", "alice"]));
    assert_eq!(v("{{ other | zip(['a', 'b']) | list }}"), json!([[2, "a"], [5, "b"]]));
    assert_eq!(v("{{ other | zip_longest(['a', 'b', 'c'], fillvalue='-') }}"), json!([[2, "a"], [5, "b"], ["-", "c"]]));
    assert_eq!(v("{{ users | subelements('keys') | map('last') | list }}"), json!(["k1", "k2", "k3"]));
    assert_eq!(v("{{ groups['web'] | map('extract', hostvars, 'ansible_host') | list }}"), json!(["192.0.2.1", "192.0.2.2"]));
}

#[test]
fn quote_comment_split_and_python_methods() {
    assert_eq!(r("{{ \"it's a test\" | quote }}"), "'it'\"'\"'s a test'");
    assert_eq!(r("{{ 'simple' | quote }}"), "simple");
    assert_eq!(r("{{ '' | quote }}"), "''");
    assert_eq!(r("{{ 'Hello\nWorld' | comment }}"), "#\n# Hello\n# World\n#");
    assert_eq!(r("{{ 'x' | comment('c') }}"), "//\n// x\n//");
    // expected values from ansible.plugins.filter.core.comment (ansible-core 2.14)
    assert_eq!(r("{{ 'x' | comment('cblock') }}"), "/*\n *\n * x\n *\n */");
    assert_eq!(r("{{ 'x' | comment('xml') }}"), "<!--\n -\n - x\n -\n-->");
    assert_eq!(r("{{ 'x' | comment('erlang') }}"), "%\n% x\n%");
    assert_eq!(v("{{ 'a b  c' | split }}"), json!(["a", "b", "c"]));
    assert_eq!(v("{{ 'a,b' | split(',') }}"), json!(["a", "b"]));
    assert_eq!(v("{{ 'a,b'.split(',') }}"), json!(["a", "b"]));
    assert_eq!(r("{{ '  x  '.strip() }}"), "x");
    assert_eq!(v("{{ name.startswith('web') }}"), json!(true));
    assert_eq!(v("{{ d.items() | list | first }}"), json!(["a", 1]));
}

#[test]
fn python_printing() {
    assert_eq!(r("{{ true }} {{ nothing }} {{ ['a', 1] }} {{ {'k': none} }}"), "True  ['a', 1] {'k': None}");
}

#[test]
fn jinja_tests() {
    assert_eq!(r("{{ name is defined }} {{ missing is undefined }} {{ nothing is none }}"), "True True True");
    assert_eq!(r("{{ 'web01' is match('web') }} {{ 'xweb' is match('web') }} {{ 'xweb' is search('web') }} {{ 'xweb' is regex('^x') }}"), "True False True True");
    assert_eq!(r("{{ '22.04' is version('20.04', '>=') }} {{ '1.10' is version('1.9', 'gt') }} {{ '2.0' is version('2.0.1', '<') }}"), "True True True");
    assert_eq!(r("{{ '5.15.0-91' is version('5.4', 'ge') }} {{ '1.0' is version('1.0', '==') }} {{ '1.0' is version('1.1', 'ne') }}"), "True True True");
    assert_eq!(r("{{ 2 in list }} {{ [1, 2] is subset(list) }} {{ list is superset([3]) }} {{ list is contains(9) }}"), "True True True False");
    assert_eq!(r("{{ '/etc' is directory }} {{ '/etc/passwd' is file }} {{ '/nonexistent' is exists }} {{ '/etc' is abs }}"), "True True False True");
    assert_eq!(
        r("{{ '1.2' is version_compare('1.10', '<') }} {{ 'yes' is truthy(convert_bool=True) }} {{ 'no' is falsy(convert_bool=True) }} {{ '' is falsy }}"),
        "True True True True"
    );
    assert_eq!(
        r("{{ result_ok is success }} {{ result_ok is changed }} {{ result_bad is failed }} {{ result_skip is skipped }} {{ result_ok is skipped }}"),
        "True True True True False"
    );
}

#[test]
fn lookups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files")).unwrap();
    std::fs::write(dir.path().join("files/key.pub"), "ssh-ed25519 AAAA test\n").unwrap();
    let ctx = json!({"role_path": dir.path().display().to_string()});
    let t = Templater::new();
    assert_eq!(t.render_str("{{ lookup('file', 'key.pub') }}", &ctx, &origin()).unwrap(), "ssh-ed25519 AAAA test");
    std::env::set_var("MDXCONF_TEST_LOOKUP", "v1");
    assert_eq!(t.render_str("{{ lookup('env', 'MDXCONF_TEST_LOOKUP') }}", &ctx, &origin()).unwrap(), "v1");
    assert_eq!(t.render_str("{{ lookup('pipe', 'echo hi') }}", &ctx, &origin()).unwrap(), "hi");
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(dir.path().join("templates/conf.j2"), "server={{ server }}\n{% if extra is defined %}extra={{ extra }}\n{% endif %}").unwrap();
    let ctx2 = json!({"role_path": dir.path().display().to_string(), "server": "nfs1"});
    assert_eq!(t.render_str("{{ lookup('template', 'conf.j2') }}", &ctx2, &origin()).unwrap(), "server=nfs1\n");
    assert_eq!(t.render_str("{{ lookup('template', 'conf.j2', template_vars={'extra': 1}) }}", &ctx2, &origin()).unwrap(), "server=nfs1\nextra=1\n");
    let e = t.render_str("{{ lookup('file', 'nope') }}", &ctx, &origin()).unwrap_err();
    assert!(e.message.contains("could not find 'nope'"), "{e}");
}
