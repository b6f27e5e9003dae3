//! Ansible Vault against the real `ansible-vault` (Debian's ansible package): fixtures it wrote decrypt
//! here, what `mdxconf-vault` writes it decrypts, for formats 1.1 and 1.2, empty and non-ASCII text.
use mdxconf_config::vault::{self, Secret};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PW: &str = "correct horse battery";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn secrets() -> Vec<Secret> {
    vec![Secret::new("default", PW.as_bytes().to_vec()), Secret::new("prod", PW.as_bytes().to_vec())]
}

/// The loaders read the process-wide passwords: every test of this binary installs the same ones.
fn install() {
    vault::store::install(secrets());
}

fn run(cmd: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut c = Command::new(cmd);
    c.args(args).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| panic!("{cmd} must be installed (apt-get install ansible): {e}"));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn mdx(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run(env!("CARGO_BIN_EXE_mdxconf-vault"), args, stdin)
}

fn ok(o: &Output) -> Vec<u8> {
    assert!(o.status.success(), "failed: {}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
    o.stdout.clone()
}

fn pwfile(dir: &Path, name: &str, pw: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{pw}\n")).unwrap();
    p.display().to_string()
}

/// The vault text of an `encrypt_string` YAML value (its 10-space indentation dropped).
fn vault_text_of(yaml: &str) -> String {
    yaml.lines().skip(1).map(|l| format!("{}\n", l.trim())).collect()
}

#[test]
fn ansible_vault_fixtures_decrypt() {
    let s = secrets();
    for (vaulted, plain, label) in
        [("vars_v11.yml", "vars.yml", "default"), ("vars_v12_prod.yml", "vars.yml", "prod"), ("utf8.txt.vault", "utf8.txt", "default"), ("empty.txt.vault", "empty.txt", "default")]
    {
        let (got, used) = vault::decrypt(&read(vaulted), &s).unwrap_or_else(|e| panic!("{vaulted}: {e}"));
        assert_eq!(got.as_slice(), read(plain).as_slice(), "{vaulted}");
        assert_eq!(used, label, "{vaulted}: the secret labelled as the vault is tried first");
        let wrong = vault::decrypt(&read(vaulted), &[Secret::new("default", b"nope".to_vec())]);
        assert!(matches!(wrong, Err(vault::VaultError::WrongPassword(_))), "{vaulted}");
        assert!(matches!(vault::decrypt(&read(vaulted), &[]), Err(vault::VaultError::NoSecrets)));
    }
}

#[test]
fn same_salt_gives_ansible_vaults_exact_bytes() {
    // a known vector: re-encrypting the plaintext with the fixture's salt reproduces the file byte for byte
    for (vaulted, plain, label) in [("vars_v11.yml", "vars.yml", "default"), ("vars_v12_prod.yml", "vars.yml", "prod"), ("empty.txt.vault", "empty.txt", "default")] {
        let env = vault::format::parse(&read(vaulted)).unwrap();
        let again = vault::encrypt_with_salt(&read(plain), &Secret::new(label, PW.as_bytes().to_vec()), &env.salt).unwrap();
        assert_eq!(again.as_bytes(), read(vaulted).as_slice(), "{vaulted}");
    }
}

#[test]
fn a_flipped_ciphertext_byte_is_refused() {
    let text = String::from_utf8(read("vars_v11.yml")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // change one hex digit well inside the ciphertext part of the body
    let last = lines.len() - 2;
    let c = lines[last].remove(10);
    lines[last].insert(10, if c == '3' { '6' } else { '3' });
    let tampered = lines.join("\n");
    assert!(vault::decrypt(tampered.as_bytes(), &secrets()).is_err());
}

#[test]
fn loaders_decrypt_vault_files_and_inline_values() {
    install();
    let v = mdxconf_config::yaml::load_file(&fixture("vars_v11.yml")).unwrap();
    assert_eq!(v, mdxconf_config::yaml::load_file(&fixture("vars.yml")).unwrap());
    let v = mdxconf_config::yaml::load_file(&fixture("vars_v12_prod.yml")).unwrap();
    assert_eq!(v["users"][1], "bob");
    let v = mdxconf_config::yaml::load_file(&fixture("inline_v11.yml")).unwrap();
    assert_eq!(v["api_key"], "k3y-Grüße");
    let v = mdxconf_config::yaml::load_file(&fixture("inline_v12.yml")).unwrap();
    assert_eq!(v["token"], "prod token");
    // inline values inside a mapping and a list, block and flow spellings
    let inline = std::fs::read_to_string(fixture("inline_v11.yml")).unwrap();
    let body: String = inline.lines().skip(1).map(|l| format!("      {}\n", l.trim())).collect();
    let doc = format!("a:\n  b: !vault |\n{body}  c: plain\nlist:\n  - !vault |\n  {}", body.replace('\n', "\n  "));
    let v = mdxconf_config::yaml::parse_str(&doc, Path::new("inline.yml")).unwrap();
    assert_eq!(v["a"]["b"], "k3y-Grüße", "{doc}");
    assert_eq!(v["list"][0], "k3y-Grüße", "{doc}");
    assert_eq!(v["a"]["c"], "plain");
}

#[test]
fn a_wrong_inline_value_names_its_line() {
    install();
    let doc = "ok: 1\nbad: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  zz\n";
    let e = mdxconf_config::yaml::parse_str(doc, Path::new("x.yml")).unwrap_err();
    // the block scalar's first line
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("!vault"), "{e}");
}

#[test]
fn bad_yaml_inside_a_vault_file_names_the_file_not_the_plaintext() {
    install();
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("secret.yml");
    std::fs::write(&f, vault::encrypt(b"ok: 1\nbad: [unclosed-s3cret\n", &secrets()[0]).unwrap()).unwrap();
    let e = mdxconf_config::yaml::load_file(&f).unwrap_err();
    assert_eq!(e.file, f);
    assert!(e.message.contains("decrypted content"), "{e}");
    assert!(e.src.is_none());
    let shown = format!("{:?}", miette::Report::new(e));
    assert!(!shown.contains("s3cret"), "{shown}");
    let wrong = d.path().join("wrong.yml");
    std::fs::write(&wrong, vault::encrypt(b"a: 1\n", &Secret::new("default", b"other".to_vec())).unwrap()).unwrap();
    let e = mdxconf_config::yaml::load_file(&wrong).unwrap_err();
    assert_eq!(e.file, wrong);
    assert!(e.message.contains("wrong password"), "{e}");
}

#[test]
fn mdxconf_encrypts_what_ansible_vault_decrypts() {
    let d = tempfile::tempdir().unwrap();
    let pw = pwfile(d.path(), "pw", "hunter2 with spaces");
    for (name, content) in [("plain.yml", "key: value\n".as_bytes()), ("utf8.txt", "Grüße 日本 ✓\n".as_bytes()), ("empty", b"")] {
        let f = d.path().join(name);
        std::fs::write(&f, content).unwrap();
        let fs = f.display().to_string();
        ok(&mdx(&["encrypt", "--vault-password-file", &pw, &fs], None));
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"), "{text}");
        assert_eq!(ok(&run("ansible-vault", &["decrypt", "--vault-password-file", &pw, "--output", "-", &fs], None)), content, "{name}");
        let bad = pwfile(d.path(), "bad", "wrong");
        assert!(!run("ansible-vault", &["view", "--vault-password-file", &bad, &fs], None).status.success());
        assert!(!mdx(&["view", "--vault-password-file", &bad, &fs], None).status.success());
        ok(&mdx(&["decrypt", "--vault-password-file", &pw, &fs], None));
        assert_eq!(std::fs::read(&f).unwrap(), content);
    }
    // 1.2 with a label, to --output
    let f = d.path().join("labelled");
    std::fs::write(&f, "secret: 1\n").unwrap();
    let out = d.path().join("labelled.vault");
    let id = format!("dev@{pw}");
    ok(&mdx(&["encrypt", "--vault-id", &id, "--output", &out.display().to_string(), &f.display().to_string()], None));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("$ANSIBLE_VAULT;1.2;AES256;dev\n"));
    assert_eq!(ok(&run("ansible-vault", &["view", "--vault-id", &id, &out.display().to_string()], None)), b"secret: 1\n");
}

#[test]
fn ansible_vault_encrypts_what_mdxconf_decrypts() {
    let d = tempfile::tempdir().unwrap();
    let pw = pwfile(d.path(), "pw", "pässword");
    for (label, content) in [(None, "x: 1\n".as_bytes()), (Some("ops"), "Grüße\n".as_bytes()), (None, b"")] {
        let f = d.path().join("f");
        std::fs::write(&f, content).unwrap();
        let fs = f.display().to_string();
        let id = label.map_or(pw.clone(), |l| format!("{l}@{pw}"));
        ok(&run("ansible-vault", &["encrypt", "--vault-id", &id, &fs], None));
        assert_eq!(ok(&mdx(&["view", "--vault-id", &id, &fs], None)), content);
        // a bare password file opens a labelled vault too (all secrets are tried)
        assert_eq!(ok(&mdx(&["view", "--vault-password-file", &pw, &fs], None)), content);
    }
}

#[test]
fn encrypt_string_both_ways() {
    let d = tempfile::tempdir().unwrap();
    let pw = pwfile(d.path(), "pw", "s");
    for id in [pw.clone(), format!("prod@{pw}")] {
        let yaml = String::from_utf8(ok(&mdx(&["encrypt_string", "--vault-id", &id, "--name", "db_pass", "Grüße 1"], None))).unwrap();
        assert!(yaml.starts_with("db_pass: !vault |\n          $ANSIBLE_VAULT;1."), "{yaml}");
        let text = vault_text_of(&yaml);
        assert_eq!(ok(&run("ansible-vault", &["decrypt", "--vault-id", &id, "--output", "-"], Some(text.as_bytes()))), "Grüße 1".as_bytes());
        let theirs = String::from_utf8(ok(&run("ansible-vault", &["encrypt_string", "--vault-id", &id, "ünïcode"], None))).unwrap();
        assert_eq!(ok(&mdx(&["decrypt", "--vault-id", &id, "--output", "-"], Some(vault_text_of(&theirs).as_bytes()))), "ünïcode".as_bytes());
    }
    assert!(!mdx(&["encrypt_string", "--vault-password-file", &pw, ""], None).status.success(), "empty plaintext is refused, as ansible-vault does");
}

#[test]
fn rekey_output_is_read_by_ansible_vault() {
    let d = tempfile::tempdir().unwrap();
    let (old, new) = (pwfile(d.path(), "old", "old pw"), pwfile(d.path(), "new", "new pw"));
    let f = d.path().join("v.yml");
    std::fs::write(&f, "a: b\n").unwrap();
    let fs = f.display().to_string();
    ok(&run("ansible-vault", &["encrypt", "--vault-password-file", &old, &fs], None));
    ok(&mdx(&["rekey", "--vault-password-file", &old, "--new-vault-password-file", &new, &fs], None));
    assert_eq!(ok(&run("ansible-vault", &["view", "--vault-password-file", &new, &fs], None)), b"a: b\n");
    assert!(!run("ansible-vault", &["view", "--vault-password-file", &old, &fs], None).status.success());
    ok(&mdx(&["rekey", "--vault-password-file", &new, "--new-vault-id", &format!("blue@{old}"), &fs], None));
    assert!(std::fs::read_to_string(&f).unwrap().starts_with("$ANSIBLE_VAULT;1.2;AES256;blue\n"));
    assert_eq!(ok(&run("ansible-vault", &["view", "--vault-id", &format!("blue@{old}"), &fs], None)), b"a: b\n");
}

#[test]
fn edit_uses_a_private_temp_file_and_encrypts_again() {
    let d = tempfile::tempdir().unwrap();
    let pw = pwfile(d.path(), "pw", "edit me");
    let f = d.path().join("v.yml");
    std::fs::write(&f, "a: 1\n").unwrap();
    let fs = f.display().to_string();
    ok(&run("ansible-vault", &["encrypt", "--vault-id", &format!("lab@{pw}"), &fs], None));
    let editor = d.path().join("editor.sh");
    let seen = d.path().join("seen");
    std::fs::write(&editor, format!("#!/bin/sh\nstat -c %a \"$1\" > {}\necho 'b: 2' >> \"$1\"\n", seen.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-vault")).args(["edit", "--vault-id", &format!("lab@{pw}"), &fs]).env("EDITOR", &editor).output().unwrap();
    ok(&out);
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), "600");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;lab\n"), "the label is kept: {text}");
    assert_eq!(ok(&run("ansible-vault", &["view", "--vault-id", &format!("lab@{pw}"), &fs], None)), b"a: 1\nb: 2\n");
    // create: a new file from the editor, refused over an existing one
    let new = d.path().join("new.yml");
    let ns = new.display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-vault")).args(["create", "--vault-password-file", &pw, &ns]).env("EDITOR", &editor).output().unwrap();
    ok(&out);
    assert_eq!(ok(&run("ansible-vault", &["view", "--vault-password-file", &pw, &ns], None)), b"b: 2\n");
    let again = Command::new(env!("CARGO_BIN_EXE_mdxconf-vault")).args(["create", "--vault-password-file", &pw, &ns]).env("EDITOR", &editor).output().unwrap();
    assert!(!again.status.success());
}

#[test]
fn templates_and_their_includes_may_be_vaults() {
    install();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("inc.j2"), vault::encrypt(b"inner {{ x }}", &secrets()[0]).unwrap()).unwrap();
    let main = d.path().join("main.j2");
    std::fs::write(&main, vault::encrypt(b"outer {% include 'inc.j2' %}\n", &secrets()[1]).unwrap()).unwrap();
    let t = mdxconf_config::template::Templater::new();
    let out = t.render_file(&main, &serde_json::json!({"x": "ü"})).unwrap();
    // trim_blocks drops the newline after the tag, as in Ansible
    assert_eq!(out, "outer inner ü");
}
