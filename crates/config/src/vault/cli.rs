//! `mdxconf vault encrypt|decrypt|view|edit|encrypt_string|rekey`: ansible-vault's commands, same format
//! and password options, so either tool reads what the other wrote.
use super::format::DEFAULT_LABEL;
use super::secrets::{self, Secret, SecretSpec, Source};
use crate::fs::write_atomic;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(clap::Args, Debug)]
pub struct VaultArgs {
    #[command(subcommand)]
    pub cmd: VaultCmd,
}

/// Where passwords come from (as ansible-vault and ansible-playbook take them).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PasswordArgs {
    /// A vault password: `label@source` or `source`; source is a file, an executable printing it, or `prompt` (repeatable)
    #[arg(long = "vault-id")]
    pub vault_id: Vec<String>,
    /// A file holding the vault password, or an executable printing it (repeatable)
    #[arg(long = "vault-password-file", visible_alias = "vault-pass-file", env = "ANSIBLE_VAULT_PASSWORD_FILE")]
    pub vault_password_file: Vec<PathBuf>,
    /// Ask for the vault password
    #[arg(short = 'J', long = "ask-vault-pass", visible_alias = "ask-vault-password")]
    pub ask_vault_pass: bool,
}

impl PasswordArgs {
    /// The passwords given; none given → one asked at the prompt (twice when `confirm`).
    pub(super) fn load(&self, confirm: bool) -> Result<Vec<Secret>> {
        let mut s = secrets::load_all(&self.vault_id, &self.vault_password_file, self.ask_vault_pass, confirm)?;
        if s.is_empty() {
            s.push(SecretSpec { label: DEFAULT_LABEL.into(), source: Source::Prompt }.load(confirm)?);
        }
        Ok(s)
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum VaultCmd {
    /// Encrypt files in place (or to --output; `-` or no file: stdin/stdout)
    Encrypt {
        files: Vec<PathBuf>,
        #[arg(long)]
        output: Option<PathBuf>,
        /// The vault id (label) to encrypt with, when several are given
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Decrypt files in place (or to --output; `-` is stdout)
    Decrypt {
        files: Vec<PathBuf>,
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Print the plaintext of vault files
    View {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Edit a vault file with $EDITOR (on a 0600 temporary file), then encrypt it again
    Edit {
        file: PathBuf,
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Create a new vault file: $EDITOR on an empty 0600 temporary file, then encrypt it
    Create {
        file: PathBuf,
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Encrypt strings as `!vault |` YAML values (no string: read stdin)
    #[command(name = "encrypt_string", visible_alias = "encrypt-string")]
    EncryptString {
        strings: Vec<String>,
        /// Variable name(s) to print before each value
        #[arg(short = 'n', long = "name")]
        name: Vec<String>,
        #[arg(long)]
        output: Option<PathBuf>,
        #[arg(long = "encrypt-vault-id")]
        encrypt_vault_id: Option<String>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
    /// Encrypt vault files again with a new password
    Rekey {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The new password's file (or executable)
        #[arg(long = "new-vault-password-file")]
        new_vault_password_file: Option<PathBuf>,
        /// The new password as `label@source`
        #[arg(long = "new-vault-id")]
        new_vault_id: Option<String>,
        #[command(flatten)]
        pw: PasswordArgs,
    },
}

pub fn run_vault(a: VaultArgs) -> Result<i32> {
    match a.cmd {
        VaultCmd::Encrypt { files, output, encrypt_vault_id, pw } => {
            let secrets = pw.load(true)?;
            let secret = pick_encrypt_secret(&secrets, encrypt_vault_id.as_deref())?;
            for (src, dst) in targets(&files, output.as_deref()) {
                let plain = Zeroizing::new(read_input(&src)?);
                let text = super::encrypt(&plain, secret).with_context(|| format!("{}", src.display()))?;
                write_output(&dst, text.as_bytes())?;
            }
            eprintln!("Encryption successful");
        }
        VaultCmd::Decrypt { files, output, pw } => {
            let secrets = pw.load(false)?;
            for (src, dst) in targets(&files, output.as_deref()) {
                let (plain, _) = decrypt_input(&src, &secrets)?;
                write_output(&dst, &plain)?;
            }
            eprintln!("Decryption successful");
        }
        VaultCmd::View { files, pw } => {
            let secrets = pw.load(false)?;
            let mut out = std::io::stdout().lock();
            for f in files {
                out.write_all(&decrypt_input(&f, &secrets)?.0)?;
            }
        }
        VaultCmd::Edit { file, encrypt_vault_id, pw } => super::edit::edit(&file, encrypt_vault_id.as_deref(), &pw)?,
        VaultCmd::Create { file, encrypt_vault_id, pw } => super::edit::create(&file, encrypt_vault_id.as_deref(), &pw)?,
        VaultCmd::EncryptString { strings, name, output, encrypt_vault_id, pw } => {
            let secrets = pw.load(true)?;
            let secret = pick_encrypt_secret(&secrets, encrypt_vault_id.as_deref())?;
            let plains: Vec<Zeroizing<Vec<u8>>> =
                if strings.is_empty() { vec![Zeroizing::new(read_input(Path::new("-"))?)] } else { strings.iter().map(|s| Zeroizing::new(s.as_bytes().to_vec())).collect() };
            let mut out = String::new();
            for (i, plain) in plains.iter().enumerate() {
                if plain.is_empty() {
                    bail!("the plaintext to encrypt is empty, not encrypting (as ansible-vault)");
                }
                out.push_str(&yaml_value(name.get(i).map(String::as_str), &super::encrypt(plain, secret)?));
            }
            write_output(output.as_deref().unwrap_or(Path::new("-")), out.as_bytes())?;
            eprintln!("Encryption successful");
        }
        VaultCmd::Rekey { files, new_vault_password_file, new_vault_id, pw } => {
            let secrets = pw.load(false)?;
            let new = match (new_vault_id, new_vault_password_file) {
                (Some(id), _) => SecretSpec::parse(&id).load(true)?,
                (None, Some(f)) => SecretSpec::file(&f).load(true)?,
                (None, None) => SecretSpec { label: DEFAULT_LABEL.into(), source: Source::Prompt }.load(true)?,
            };
            for f in files {
                let (plain, _) = decrypt_input(&f, &secrets)?;
                write_output(&f, super::encrypt(&plain, &new)?.as_bytes())?;
            }
            eprintln!("Rekey successful");
        }
    }
    Ok(0)
}

/// `--encrypt-vault-id` names the secret; otherwise there must be exactly one (ansible-vault refuses to guess).
pub(super) fn pick_encrypt_secret<'a>(secrets: &'a [Secret], label: Option<&str>) -> Result<&'a Secret> {
    match label {
        Some(l) => secrets.iter().find(|s| s.label == l).ok_or_else(|| anyhow!("no vault id '{l}' was given (known: {})", labels(secrets))),
        None if secrets.len() == 1 => Ok(&secrets[0]),
        None => bail!("the vault ids {} are available to encrypt: choose one with --encrypt-vault-id", labels(secrets)),
    }
}

fn labels(secrets: &[Secret]) -> String {
    secrets.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(", ")
}

/// (input, output) pairs: in place, or all into --output; no file means stdin → stdout.
fn targets(files: &[PathBuf], output: Option<&Path>) -> Vec<(PathBuf, PathBuf)> {
    if files.is_empty() {
        return vec![(PathBuf::from("-"), output.map_or_else(|| PathBuf::from("-"), Path::to_path_buf))];
    }
    files.iter().map(|f| (f.clone(), output.map_or_else(|| f.clone(), Path::to_path_buf))).collect()
}

fn read_input(p: &Path) -> Result<Vec<u8>> {
    if p == Path::new("-") {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v)?;
        return Ok(v);
    }
    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
}

pub(super) fn decrypt_input(p: &Path, secrets: &[Secret]) -> Result<(Zeroizing<Vec<u8>>, String)> {
    let data = read_input(p)?;
    if !super::is_vault(&data) {
        bail!("{} is not a vault-encrypted file", p.display());
    }
    super::decrypt(&data, secrets).with_context(|| format!("{}", p.display()))
}

/// stdout for `-`; otherwise atomically, keeping an existing file's mode (a new file is 0600).
pub(super) fn write_output(p: &Path, data: &[u8]) -> Result<()> {
    if p == Path::new("-") {
        let mut out = std::io::stdout().lock();
        out.write_all(data)?;
        return Ok(out.flush()?);
    }
    let mode = std::fs::metadata(p).ok().map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()));
    write_atomic(p, data).with_context(|| format!("cannot write {}", p.display()))?;
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m & 0o7777))?;
    }
    Ok(())
}

/// A vault text as a YAML value (`!vault |` block, 10-space indent, as ansible-vault prints it).
pub fn yaml_value(name: Option<&str>, vault_text: &str) -> String {
    let mut out = match name {
        Some(n) => format!("{n}: !vault |\n"),
        None => "!vault |\n".to_string(),
    };
    for l in vault_text.lines() {
        out.push_str("          ");
        out.push_str(l);
        out.push('\n');
    }
    out
}
