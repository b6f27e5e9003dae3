//! Ansible Vault end to end on `ansible_connection=local` hosts: an encrypted group_vars file, an inline
//! `!vault` var in a template and a debug, an encrypted `copy` source; with `--vault-password-file` and a
//! `--vault-id` script; wrong and missing passwords stop before any host is touched.
use crate::common;
use common::*;
use mdxconf_config::vault::{self, Secret};

const PW: &str = "vault pw ✓";

fn enc(plain: &str, label: &str) -> String {
    vault::encrypt(plain.as_bytes(), &Secret::new(label, PW.as_bytes().to_vec())).unwrap()
}

fn indented(text: &str, n: usize) -> String {
    text.lines().map(|l| format!("{}{l}\n", " ".repeat(n))).collect()
}

/// miette wraps long messages: one line of words to search in.
fn flat(err: &str) -> String {
    err.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

fn project() -> Project {
    let p = Project::local(&["h1"]);
    p.write("group_vars/web.yml", &enc("db_pass: s3cret-db\n", "default"));
    p.write("files/secret.txt", &enc("file plaintext Grüße\n", "default"));
    // the template source itself is a vault too
    p.write("templates/app.conf.j2", &enc("db={{ db_pass }}\napi={{ api_key }}\n", "default"));
    let pb = format!(
        r#"- hosts: web
  gather_facts: false
  vars:
    dir: "{{{{ work }}}}/{{{{ inventory_hostname }}}}"
    api_key: !vault |
{inline}  tasks:
    - name: host dir
      file: {{path: "{{{{ dir }}}}", state: directory}}
    - name: template
      template: {{src: app.conf.j2, dest: "{{{{ dir }}}}/app.conf"}}
    - name: copy
      copy: {{src: secret.txt, dest: "{{{{ dir }}}}/secret.txt"}}
    - name: show
      debug: {{msg: "key is {{{{ api_key }}}}"}}
    - name: hidden
      debug: {{msg: "db is {{{{ db_pass }}}}"}}
      no_log: true
"#,
        inline = indented(&enc("api-Grüße", "dev"), 6)
    );
    p.write("site.yml", &pb);
    p.write("pw.txt", &format!("{PW}\n"));
    p
}

fn check_deployed(p: &Project, doc: &serde_json::Value) {
    let d = p.host_dir("h1");
    assert_eq!(read(&d.join("app.conf")), "db=s3cret-db\napi=api-Grüße\n");
    assert_eq!(read(&d.join("secret.txt")), "file plaintext Grüße\n");
    let text = doc.to_string();
    assert!(text.contains("key is api-Grüße"), "{doc:#}");
    assert!(!text.contains("db is s3cret-db"), "no_log output shows the secret: {doc:#}");
    assert_eq!(statuses(doc, "hidden"), vec![("h1".into(), "ok".into())]);
}

#[test]
fn vault_password_file_decrypts_vars_inline_values_and_copy_sources() {
    let p = project();
    let pw = p.path("pw.txt").display().to_string();
    let (code, doc, err) = p.cli_json("site.yml", &["--vault-password-file", &pw]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    check_deployed(&p, &doc);
    assert!(!err.contains("s3cret-db") && !err.contains("api-Grüße"), "{err}");
}

#[test]
fn vault_id_script_is_run_for_its_password() {
    let p = project();
    let script = p.write("pw-client.sh", &format!("#!/bin/sh\n[ \"$1\" = --vault-id ] && [ \"$2\" = dev ] || exit 2\nprintf '%s\\n' '{PW}'\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let id = format!("dev@{}", script.display());
    let (code, doc, err) = p.cli_json("site.yml", &["--vault-id", &id]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    check_deployed(&p, &doc);
}

#[test]
fn wrong_password_is_a_clear_error_and_nothing_changes() {
    let p = project();
    let bad = p.write("bad.txt", "not it\n").display().to_string();
    let (code, out, err) = p.cli("site.yml", &["--vault-password-file", &bad]);
    let err = flat(&err);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(err.contains("decryption failed") && err.contains("wrong password"), "{err}");
    assert!(err.contains("web.yml") || err.contains("site.yml"), "the error names the file: {err}");
    assert!(!p.host_dir("h1").exists(), "a host was touched");
}

#[test]
fn missing_password_says_which_option_to_use() {
    let p = project();
    let (code, out, err) = p.cli("site.yml", &[]);
    let err = flat(&err);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(err.contains("--vault-password-file") && err.contains("--vault-id") && err.contains("--ask-vault-pass"), "{err}");
    assert!(err.contains("web.yml") || err.contains("site.yml"), "{err}");
    assert!(!p.host_dir("h1").exists(), "a host was touched");
}

#[test]
fn env_var_names_the_password_file_and_decrypt_false_copies_the_vault() {
    let p = project();
    p.write("raw.yml", RAW_COPY);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
        .arg(p.path("raw.yml"))
        .arg("-i")
        .arg(&p.inventory)
        .env("ANSIBLE_VAULT_PASSWORD_FILE", p.path("pw.txt"))
        .env("HOME", p.dir.path())
        .env("MDXCONF_RETRY_DIR", p.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(read(&p.host_dir("h1").join("raw.txt")).starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
}

/// `decrypt: false` deploys the vault text itself, as in Ansible; the group_vars vault still opens.
const RAW_COPY: &str = r#"- hosts: web
  gather_facts: false
  tasks:
    - file: {path: "{{ work }}/{{ inventory_hostname }}", state: directory}
    - copy: {src: secret.txt, dest: "{{ work }}/{{ inventory_hostname }}/raw.txt", decrypt: false}
    - assert: {that: "db_pass == 's3cret-db'"}
"#;

#[test]
fn vars_files_include_vars_role_vars_and_extra_vars_files_may_be_vaults() {
    let p = Project::local(&["h1"]);
    p.write("pw.txt", &format!("{PW}\n"));
    p.write("vf.yml", &enc("from_vars_files: vf\n", "default"));
    p.write("iv.yml", &enc("from_include_vars: iv\n", "default"));
    p.write("ev.yml", &enc("from_extra: ev\n", "prod"));
    p.write("roles/r/defaults/main.yml", &enc("from_role_defaults: rd\n", "default"));
    p.write("roles/r/vars/main.yml", &enc("from_role_vars: rv\n", "default"));
    p.write("roles/r/tasks/main.yml", "- assert: {that: [\"from_role_defaults == 'rd'\", \"from_role_vars == 'rv'\"]}\n");
    p.write(
        "site.yml",
        r#"- hosts: web
  gather_facts: false
  vars_files: [vf.yml]
  roles: [r]
  tasks:
    - include_vars: iv.yml
    - assert: {that: ["from_vars_files == 'vf'", "from_include_vars == 'iv'", "from_extra == 'ev'"]}
"#,
    );
    let pw = p.path("pw.txt").display().to_string();
    let ev = format!("@{}", p.path("ev.yml").display());
    let (code, doc, err) = p.cli_json("site.yml", &["--vault-password-file", &pw, "-e", &ev]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(recap_total(&doc, "failed"), 0, "{doc:#}");
}

#[test]
fn ask_vault_pass_reads_the_password_without_a_terminal_from_stdin() {
    let p = project();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
        .arg(p.path("site.yml"))
        .args(["-i", &p.inventory.display().to_string(), "--ask-vault-pass", "--format", "json"])
        .stdin(std::fs::File::open(p.path("pw.txt")).unwrap())
        .env("HOME", p.dir.path())
        .env("MDXCONF_RETRY_DIR", p.dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("/dev/tty") || std::fs::File::open("/dev/tty").is_ok() {
        // a terminal is present (run by hand): the prompt would read it, not stdin
        return;
    }
    assert!(out.status.success(), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_deployed(&p, &doc);
}

#[test]
fn a_vault_template_with_a_wrong_password_stops_before_any_host() {
    let p = Project::local(&["h1"]);
    p.write("templates/t.j2", &enc("{{ inventory_hostname }} {{ groups['web'] | length }}\n", "default"));
    p.write(
        "site.yml",
        "- hosts: web\n  gather_facts: false\n  tasks:\n    - file: {path: \"{{ work }}/h1\", state: directory}\n    - template: {src: t.j2, dest: \"{{ work }}/h1/t\"}\n",
    );
    p.write("pw.txt", &format!("{PW}\n"));
    let bad = p.write("bad.txt", "nope\n").display().to_string();
    let (code, _, err) = p.cli("site.yml", &["--vault-password-file", &bad]);
    assert_ne!(code, 0);
    assert!(flat(&err).contains("t.j2") && flat(&err).contains("wrong password"), "{err}");
    assert!(!p.host_dir("h1").exists());
    // with the right one, magic variables (groups) inside the vault template work
    let pw = p.path("pw.txt").display().to_string();
    let (code, doc, err) = p.cli_json("site.yml", &["--vault-password-file", &pw]);
    assert_eq!(code, 0, "{err}\n{doc:#}");
    assert_eq!(read(&p.host_dir("h1").join("t")), "h1 1\n");
}
