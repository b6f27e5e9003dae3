//! Differential test: the same templates rendered by our Templater and by Ansible's own Templar
//! (ansible-core from Debian's ansible package, run through /usr/bin/python3) must print the
//! same text. (Python tuples print as `(a, b)`; we have no tuples, so results that are tuples in
//! Python are compared after `| list`.)
use mdxconf_config::template::Templater;
use mdxconf_config::yaml::Origin;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn ctx() -> Value {
    json!({
        "name": "web01", "port": 8080, "flag": "yes", "t": true, "f": false, "empty": "", "nothing": null,
        "list": [3, 1, 2, 3], "other": [2, 5], "words": ["b", "a", "c"],
        "nested": [[1, [2]], 3],
        "users": [{"name": "alice", "uid": 1000, "admin": true}, {"name": "bob", "uid": 1001, "admin": false}],
        "d": {"a": 1, "b": {"x": 1, "l": [1]}}, "d2": {"b": {"y": 2, "l": [2]}, "c": 3},
        "path": "/etc/ssh/sshd_config", "ip": "10.1.2.3/21", "ver": "22.04",
        "text": "Hello World\nsecond line", "csv": "a,b,,c", "yaml_text": "a: 1\nb: [x, y]\n",
        "hostvars": {"web01": {"ethipv4": "10.1.2.3"}, "web02": {"ethipv4": "10.1.2.4"}},
        "groups": {"web": ["web01", "web02"]},
    })
}

const TEMPLATES: &[&str] = &[
    "{{ missing | default('x') }}", "{{ empty | default('z', true) }}", "{{ name | d('q') }}",
    "{{ d | to_json }}", "{{ d | to_nice_json }}", "{{ users | to_json }}", "{{ 'é\"\\\\' | to_json }}",
    "{{ d | to_yaml }}", "{{ d | to_nice_yaml }}", "{{ users | to_nice_yaml }}", "{{ list | to_yaml }}",
    "{{ {'mode': '0644', 'on': 'yes', 'e': '', 'n': None, 't': True, 'f': 1.5, 'k': 'a: b'} | to_nice_yaml }}",
    "{{ (yaml_text | from_yaml).b }}", "{{ ('{\"k\": [1, 2]}' | from_json).k }}", "{{ 'a\\nb' }}",
    "{{ 'ansible' | regex_replace('^a.*i(.*)$', 'a\\1') }}", "{{ 'a1b22' | regex_replace('\\d+', '#') }}",
    "{{ 'server1/database42' | regex_search('database[0-9]+') }}",
    "{{ 'server1/database42' | regex_search('server([0-9]+)/database([0-9]+)', '\\1', '\\2') }}",
    "{{ 'a1b22c333' | regex_findall('\\d+') }}", "{{ 'k1=v1 k2=v2' | regex_findall('(\\w+)=(\\w+)') | map('list') | list }}",
    "{{ d | combine(d2) }}", "{{ d | combine(d2, recursive=True) }}", "{{ d | combine(d2, recursive=True, list_merge='append') }}",
    "{{ d | dict2items }}", "{{ [{'key': 'a', 'value': 1}] | items2dict }}",
    "{{ (port == 8080) | ternary('yes', 'no') }}", "{{ nothing | ternary('t', 'f', 'n') }}",
    "{{ flag | bool }} {{ 'off' | bool }} {{ '1' | bool }} {{ 'TRUE' | bool }} {{ 0 | bool }}",
    "{{ path | basename }} {{ path | dirname }} {{ 'a/b.tar.gz' | splitext | list }}",
    "{{ 'hello' | b64encode }} {{ 'aGVsbG8=' | b64decode }}",
    "{{ 'hello' | hash('sha1') }} {{ 'hello' | hash('md5') }} {{ 'hello' | checksum }}",
    "{{ 'secret' | password_hash('sha512', 'saltsalt') }}",
    "{{ ip | ansible.utils.ipaddr('network/prefix') }}", "{{ ip | ipaddr('address') }} {{ ip | ipaddr('network') }}",
    "{{ ip | ipaddr('prefix') }} {{ ip | ipaddr('netmask') }} {{ ip | ipaddr('broadcast') }} {{ ip | ipaddr('size') }}",
    "{{ '10.0.0.0/24' | ipaddr(5) }} {{ 'x' | ipaddr }} {{ ['10.0.0.1', 'fe80::1'] | ipv4 }} {{ ['10.0.0.1', 'fe80::1'] | ipv6 }}",
    "{{ '2001:db8::1/64' | ipv6('network/prefix') }}",
    "{{ '10.1.2.3' | ipaddr('network') }}|{{ '10.1.0.0/21' | ipaddr('address') }}|{{ '10.1.2.3' | ipaddr('host') }}|{{ ip | ipaddr('host') }}",
    "{{ ip | ipaddr('subnet') }} {{ ip | ipaddr('hostmask') }} {{ ip | ipaddr('first_usable') }} {{ ip | ipaddr('last_usable') }}",
    "{{ '10.1.2.3' | ipaddr('network/prefix') }} {{ ip | ipaddr }} {{ '10.1.2.3' | ipaddr('prefix') }} {{ ip | ipaddr('int') }} {{ '10.1.2.3' | ipaddr('int') }}",
    "{{ '192.168.1.1' | ipaddr('private') }}|{{ '8.8.8.8' | ipaddr('public') }}|{{ '8.8.8.8' | ipaddr('private') }}|{{ ip | ipaddr('net') }}|{{ '10.1.0.0/21' | ipaddr('net') }}",
    "{{ ip | ipaddr(-1) }} {{ ip | ipv4('address') }} {{ '::1' | ipaddr('network') }} {{ '10.1.2.3/32' | ipaddr('network') }} {{ '10.0.0.0/24' | ipaddr(300) }}",
    "{{ ip | ipaddr('address/prefix') }} {{ '10.1.0.0/21' | ipaddr('host/prefix') }}|{{ '10.1.0.0/21' | ipaddr('host') }}|{{ '10.1.2.3/31' | ipaddr('broadcast') }}|{{ '10.1.2.3/31' | ipaddr('first_usable') }}",
    "{{ '10.1.2.3' | ipaddr('size') }} {{ 'x' | ipaddr('address') }} {{ '10.1.2.3' | ipaddr('netmask') }} {{ 'fe80::1/64' | ipaddr('address') }}",
    "{{ '10.0.0.1' | ipmath(5) }} {{ '10.0.0.0/16' | ipsubnet(24) }} {{ '10.0.0.0/16' | ipsubnet(24, 2) }}",
    "{{ list | unique }} {{ list | union(other) }} {{ list | intersect(other) }} {{ list | difference(other) }}",
    "{{ list | symmetric_difference(other) }} {{ nested | flatten }} {{ nested | flatten(levels=1) }}",
    "{{ list | min }} {{ list | max }} {{ list | sum }} {{ list | length }} {{ list | first }} {{ list | last }}",
    "{{ list | sort }} {{ words | sort | join('-') }} {{ list | select('gt', 1) | list }} {{ list | reject('gt', 1) | list }}",
    "{{ users | selectattr('admin') | map(attribute='name') | list }} {{ users | rejectattr('admin') | map(attribute='uid') | list }}",
    "{{ users | sort(attribute='uid', reverse=true) | map(attribute='name') | join(',') }}",
    "{{ other | zip(['a', 'b']) | map('list') | list }}", "{{ groups['web'] | map('extract', hostvars, 'ethipv4') | list }}",
    "{{ \"it's a test\" | quote }} {{ 'simple' | quote }}", "{{ text | comment }}", "{{ 'x' | comment('cblock') }}",
    "{{ 'a b  c' | split }} {{ csv | split(',') }} {{ csv.split(',') }} {{ '  x  '.strip() }} {{ name.startswith('web') }}",
    "{{ d | type_debug }} {{ list | type_debug }} {{ name | type_debug }} {{ port | type_debug }} {{ nothing | type_debug }}",
    "{{ '42' | int + 1 }} {{ '1.5' | float }} {{ port | string }} {{ 'ab' | list }}",
    "{{ t }} {{ f }} {{ nothing }} {{ list }} {{ d }} {{ users[0] }}",
    "{{ name is defined }} {{ missing is undefined }} {{ nothing is none }}",
    "{{ 'web01' is match('web') }} {{ 'xweb' is match('web') }} {{ 'xweb' is search('web') }} {{ 'xweb' is regex('^x') }}",
    "{{ ver is version('20.04', '>=') }} {{ '1.10' is version('1.9', 'gt') }} {{ '2.0' is version('2.0.1', '<') }}",
    "{{ 2 in list }} {{ [1, 2] is subset(list) }} {{ list is superset([3]) }}",
    "{{ '/etc' is directory }} {{ '/etc/passwd' is file }} {{ '/nonexistent' is exists }}",
    "{% for h in groups['web'] %}{{ hostvars[h].ethipv4 }} {% endfor %}",
    "{% if t %}\nyes\n{% endif %}\nend\n",
];

fn ansible_render(templates: &[&str]) -> Vec<Value> {
    ansible_run(json!({"ctx": ctx(), "templates": templates}))
}

fn ansible_run(input: Value) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/ansible_render.py");
    let mut child = Command::new("/usr/bin/python3")
        .arg(script)
        .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
        .env("ANSIBLE_LOCAL_TEMP", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 with ansible-core is needed (apt-get install ansible)");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "ansible render failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn filters_and_tests_print_like_ansible() {
    let theirs = ansible_render(TEMPLATES);
    let t = Templater::new();
    let o = Origin::new(Path::new("diff.yml"), 1, 1);
    let mut mismatches = Vec::new();
    for (tmpl, their) in TEMPLATES.iter().zip(&theirs) {
        let expected = their["ok"].as_str().unwrap_or_else(|| panic!("Ansible failed on {tmpl}: {their}"));
        // Ansible's filters are reachable by their collection name too; ours by the short name
        let ours_tmpl = tmpl.replace("ansible.utils.ipaddr", "ipaddr");
        match t.render_str(&ours_tmpl, &ctx(), &o) {
            Ok(mine) if mine == expected => {}
            Ok(mine) => mismatches.push(format!("{tmpl}\n  ansible: {expected:?}\n  ours:    {mine:?}")),
            Err(e) => mismatches.push(format!("{tmpl}\n  ansible: {expected:?}\n  ours:    error {e}")),
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), TEMPLATES.len(), mismatches.join("\n"));
}

#[test]
fn undefined_errors_match_ansible_wording() {
    let cases = ["{{ missing_var }}", "{{ d.nokey }}"];
    let theirs = ansible_render(&cases);
    let t = Templater::new();
    let o = Origin::new(Path::new("diff.yml"), 1, 1);
    for (tmpl, their) in cases.iter().zip(&theirs) {
        let their_err = their["err"].as_str().unwrap_or_else(|| panic!("Ansible rendered {tmpl}: {their}"));
        let mine = t.render_str(tmpl, &ctx(), &o).unwrap_err();
        let core = mine.message.trim_start_matches("template error: ").split(" (in `").next().unwrap().to_string();
        assert!(their_err.contains(&core), "{tmpl}: ansible said {their_err:?}, we said {core:?}");
    }
}

#[test]
fn conditions_evaluate_like_ansible() {
    let conds = [
        "flag",
        "flag | bool",
        "not t",
        "f or t",
        "port > 8000 and 2 in list",
        "'web' in name",
        "name is match('web')",
        "list | length == 4",
        "missing is not defined",
        "d.a == 1",
        "d.b.x is defined",
        "ver is version('20.04', '>=')",
        "empty",
        "nothing",
        "nothing is none",
        "users | selectattr('admin') | list | length > 0",
        "'\\d' in 'a\\d'",
        "name | regex_search('\\d+')",
    ];
    // Ansible evaluates `when:` as `{% if COND %} True {% else %} False {% endif %}`
    let wrapped: Vec<String> = conds.iter().map(|c| format!("{{% if {c} %}}True{{% else %}}False{{% endif %}}")).collect();
    let theirs = ansible_render(&wrapped.iter().map(String::as_str).collect::<Vec<_>>());
    let t = Templater::new();
    let o = Origin::new(Path::new("diff.yml"), 1, 1);
    for (c, their) in conds.iter().zip(&theirs) {
        let expected = their["ok"].as_str().unwrap_or_else(|| panic!("Ansible failed on {c}: {their}")) == "True";
        let mine = t.eval_condition(&json!(c), &ctx(), &o).unwrap_or_else(|e| panic!("{c}: {e}"));
        assert_eq!(mine, expected, "condition {c}");
    }
}

/// Variables the repository's role templates use (as the engine would supply them).
fn role_ctx() -> Value {
    json!({
        "inventory_hostname": "node1", "etc_hosts_group": "all", "jupyter_host_group": "jupyter",
        "groups": {"all": ["node1", "node2", "node3"], "jupyter": ["node1", "node2"]},
        "hostvars": {
            "node1": {"ethipv4": "10.1.2.3", "hostname": "n1", "rdmaipv4": "10.2.2.3"},
            "node2": {"ethipv4": "10.1.2.4", "fqdn": "n2.example.org", "glbipv4": "203.0.113.2"},
            "node3": {"hostname": "n3"},
        },
        "ethipv4": "10.1.2.3",
        "jupyterlab_group": "users", "jupyterlab_home": "/home/u", "jupyterlab_port": 8888,
        "jupyterlab_token": "tok", "jupyterlab_user": "u", "jupyterlab_venv": "/opt/jl",
        "ldap_domain": "dc=example,dc=org", "ldap_server_addr": "10.1.2.9", "ldap_allow_cleartext_auth": true,
        "ldap_dns_domain": "example.org", "ldap_organization": "Example", "ldap_root_password": "pw",
        "ldap_sudo_nopasswd": false, "ldap_sudo_group": "admins",
        "lustre_src_ip": "10.2.2.3", "lustre_rdma_interface": "ib0",
        "lustre_lnet_networks": [{"net": "o2ib", "interface": ""}, {"net": "tcp", "interface": "eth0"}],
        "lustre_lnet_peers": [{"primary_nid": "10.2.0.1@o2ib", "nids": ["10.2.0.1@o2ib", "10.2.0.2@o2ib"]}],
        "lustre_modprobe_options": ["options lnet networks=o2ib(ib0)", "options ko2iblnd peer_credits=128"],
        "nvidia_persistenced_user": "nvidia-persistenced",
        "proxy_port": 8000, "reverse_proxy_base_port": 9000,
        "cloud_init_user": "mdxuser", "cloud_init_datasources": ["VMware", "OVF", "ConfigDrive", "OpenStack", "NoCloud", "None"],
        "cloud_init_user_groups": ["adm", "sudo"], "cloud_init_network_renderer": "networkd", "cloud_init_locale": "C.UTF-8",
        "cloud_init_password_hash": "yescrypt",
    })
}

#[test]
fn role_templates_render_like_ansible_template_module() {
    let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../roles");
    let mut files: Vec<String> = Vec::new();
    for role in std::fs::read_dir(&roles).unwrap().flatten() {
        if let Ok(rd) = std::fs::read_dir(role.path().join("templates")) {
            files.extend(rd.flatten().map(|e| e.path().display().to_string()).filter(|p| p.ends_with(".j2")));
        }
    }
    files.sort();
    assert!(files.len() >= 5, "expected the repository's role templates");
    let theirs = ansible_run(json!({"ctx": role_ctx(), "files": files}));
    let t = Templater::new();
    for (f, their) in files.iter().zip(&theirs) {
        let expected = their["ok"].as_str().unwrap_or_else(|| panic!("Ansible failed on {f}: {their}"));
        let mine = t.render_file(Path::new(f), &role_ctx()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mine, expected, "{f}");
    }
}

/// `-e ldap_sudo_nopasswd=false` gives the string "false", which Jinja finds true: the role templates
/// must read their switches through `| bool` so the string acts like the boolean (in Ansible and here).
#[test]
fn role_template_switches_given_as_extra_var_strings_act_like_booleans() {
    let roles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../roles");
    let files: Vec<String> = ["ldap_sudoers/templates/ldap_sudo.j2", "ldap_client/templates/sssd.conf.j2"].iter().map(|f| roles.join(f).display().to_string()).collect();
    let t = Templater::new();
    for (switch_value, as_string) in [(false, "false"), (true, "true")] {
        let mut booleans = role_ctx();
        booleans["ldap_sudo_nopasswd"] = json!(switch_value);
        booleans["ldap_allow_cleartext_auth"] = json!(switch_value);
        let mut strings = role_ctx();
        strings["ldap_sudo_nopasswd"] = json!(as_string);
        strings["ldap_allow_cleartext_auth"] = json!(as_string);
        let theirs = ansible_run(json!({"ctx": strings, "files": files}));
        for (f, their) in files.iter().zip(&theirs) {
            let want = t.render_file(Path::new(f), &booleans).unwrap_or_else(|e| panic!("{e}"));
            let mine = t.render_file(Path::new(f), &strings).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(mine, want, "{f} with the switches as the string {as_string:?}");
            assert_eq!(their["ok"].as_str(), Some(want.as_str()), "Ansible on {f} with {as_string:?}");
        }
    }
}
