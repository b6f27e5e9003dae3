//! Vault passwords and where they come from: `--vault-id label@source` (a file, an executable that prints
//! it, or `prompt`) and `--vault-password-file`, read as Ansible reads them.
use super::format::DEFAULT_LABEL;
use super::VaultError;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// One vault password with its label (vault id); the bytes are wiped on drop and never printed.
pub struct Secret {
    pub label: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.label)
    }
}

impl Secret {
    pub fn new(label: &str, bytes: Vec<u8>) -> Secret {
        Secret { label: label.to_string(), bytes: Zeroizing::new(bytes) }
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where a password comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file (first the whole content, stripped) or an executable (its stdout)
    File(PathBuf),
    /// Asked on the terminal
    Prompt,
}

/// A `--vault-id` before it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretSpec {
    pub label: String,
    pub source: Source,
}

impl SecretSpec {
    /// `label@source` or just `source` (label `default`), as Ansible splits it (at the first `@`).
    pub fn parse(s: &str) -> SecretSpec {
        let (label, src) = match s.split_once('@') {
            Some((l, src)) if !l.is_empty() => (l, src),
            _ => (DEFAULT_LABEL, s),
        };
        let source = if src == "prompt" || src == "prompt_ask_vault_pass" { Source::Prompt } else { Source::File(PathBuf::from(src)) };
        SecretSpec { label: label.to_string(), source }
    }
    pub fn file(path: &Path) -> SecretSpec {
        SecretSpec { label: DEFAULT_LABEL.into(), source: Source::File(path.to_path_buf()) }
    }

    /// Read the password. `confirm` asks twice at a prompt (for a new password).
    pub fn load(&self, confirm: bool) -> Result<Secret, VaultError> {
        let bytes = match &self.source {
            Source::File(p) => read_source(p, &self.label)?,
            Source::Prompt => prompt(&self.label, confirm)?,
        };
        if bytes.is_empty() {
            return Err(VaultError::Password(format!("an empty vault password was given ({})", self.describe())));
        }
        Ok(Secret::new(&self.label, bytes))
    }

    fn describe(&self) -> String {
        match &self.source {
            Source::File(p) => format!("vault id '{}' from {}", self.label, p.display()),
            Source::Prompt => format!("vault id '{}' at the prompt", self.label),
        }
    }
}

fn read_source(path: &Path, label: &str) -> Result<Vec<u8>, VaultError> {
    let meta = std::fs::metadata(path).map_err(|e| VaultError::Password(format!("cannot read the vault password file {}: {e}", path.display())))?;
    use std::os::unix::fs::PermissionsExt;
    if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
        return run_script(path, label);
    }
    let data = std::fs::read(path).map_err(|e| VaultError::Password(format!("cannot read the vault password file {}: {e}", path.display())))?;
    // Ansible: the whole file, surrounding whitespace stripped
    Ok(data.trim_ascii().to_vec())
}

/// An executable password source prints the password; a `*-client` script is asked for the label.
fn run_script(path: &Path, label: &str) -> Result<Vec<u8>, VaultError> {
    let mut cmd = std::process::Command::new(path);
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if stem.ends_with("-client") {
        cmd.args(["--vault-id", label]);
    }
    let out = cmd
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| VaultError::Password(format!("cannot run the vault password script {}: {e}", path.display())))?;
    if !out.status.success() {
        return Err(VaultError::Password(format!("the vault password script {} failed ({}) for vault id '{label}'", path.display(), out.status)));
    }
    let stdout = Zeroizing::new(out.stdout);
    Ok(trim_newlines(&stdout).to_vec())
}

fn trim_newlines(b: &[u8]) -> &[u8] {
    let is_nl = |c: &u8| *c == b'\r' || *c == b'\n';
    let start = b.iter().position(|c| !is_nl(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_nl(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

/// Ask on the terminal with echo off (stdin when there is no terminal, e.g. a pipe).
fn prompt(label: &str, confirm: bool) -> Result<Vec<u8>, VaultError> {
    let what = if label == DEFAULT_LABEL { String::new() } else { format!(" ({label})") };
    let (first, again) =
        if confirm { (format!("New vault password{what}: "), format!("Confirm new vault password{what}: ")) } else { (format!("Vault password{what}: "), String::new()) };
    let pw = super::tty::read_password(&first).map_err(|e| VaultError::Password(format!("cannot read the vault password: {e}")))?;
    if confirm {
        let pw2 = super::tty::read_password(&again).map_err(|e| VaultError::Password(format!("cannot read the vault password: {e}")))?;
        if pw != pw2 {
            return Err(VaultError::Password("the passwords do not match".into()));
        }
    }
    Ok(pw.trim_ascii().to_vec())
}

/// The passwords of a command line, in Ansible's order: `--vault-id`s, then `--vault-password-file`s, then
/// `--ask-vault-pass` (label `default`). `confirm` asks twice at prompts (new passwords).
pub fn load_all(vault_ids: &[String], password_files: &[PathBuf], ask: bool, confirm: bool) -> Result<Vec<Secret>, VaultError> {
    let mut specs: Vec<SecretSpec> = vault_ids.iter().map(|v| SecretSpec::parse(v)).collect();
    specs.extend(password_files.iter().map(|p| SecretSpec::file(p)));
    if ask {
        specs.push(SecretSpec { label: DEFAULT_LABEL.into(), source: Source::Prompt });
    }
    specs.iter().map(|s| s.load(confirm)).collect()
}

/// The secrets to try for a vault with `label`: those with that label first, then the others (Ansible's order).
pub fn candidates<'a>(secrets: &'a [Secret], label: Option<&str>) -> Vec<&'a Secret> {
    let mut out: Vec<&Secret> = secrets.iter().filter(|s| Some(s.label.as_str()) == label).collect();
    out.extend(secrets.iter().filter(|s| Some(s.label.as_str()) != label));
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;

    #[test]
    fn vault_id_spelling() {
        assert_eq!(SecretSpec::parse("prod@/x/pw"), SecretSpec { label: "prod".into(), source: Source::File("/x/pw".into()) });
        assert_eq!(SecretSpec::parse("/x/pw"), SecretSpec { label: "default".into(), source: Source::File("/x/pw".into()) });
        assert_eq!(SecretSpec::parse("dev@prompt").source, Source::Prompt);
        assert_eq!(SecretSpec::parse("prompt").label, "default");
    }

    #[test]
    fn files_and_scripts() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("pw");
        std::fs::write(&f, "  s3cret \n").unwrap();
        assert_eq!(SecretSpec::file(&f).load(false).unwrap().bytes(), b"s3cret");
        let empty = d.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        assert!(SecretSpec::file(&empty).load(false).is_err());
        assert!(SecretSpec::file(&d.path().join("missing")).load(false).is_err());
        let script = d.path().join("pw-client.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"from-$2\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(SecretSpec::parse(&format!("prod@{}", script.display())).load(false).unwrap().bytes(), b"from-prod");
        let failing = d.path().join("fail.sh");
        std::fs::write(&failing, "#!/bin/sh\nexit 3\n").unwrap();
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(SecretSpec::file(&failing).load(false).is_err());
    }

    #[test]
    fn matching_label_first() {
        let s = vec![Secret::new("a", b"1".to_vec()), Secret::new("b", b"2".to_vec()), Secret::new("c", b"3".to_vec())];
        let labels = |l| candidates(&s, l).iter().map(|x| x.label.clone()).collect::<Vec<_>>();
        assert_eq!(labels(Some("b")), ["b", "a", "c"]);
        assert_eq!(labels(None), ["a", "b", "c"]);
        assert!(!format!("{:?}", s[0]).contains('1'));
    }
}
