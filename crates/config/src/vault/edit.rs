//! `mdxconf vault edit|create`: the plaintext only ever in a 0600 temporary file, overwritten before removal.
use super::cli::{decrypt_input, pick_encrypt_secret, write_output, PasswordArgs};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// Decrypt, let $EDITOR change it, encrypt again with the same vault id (unless `--encrypt-vault-id`).
pub fn edit(file: &Path, encrypt_vault_id: Option<&str>, pw: &PasswordArgs) -> Result<()> {
    let secrets = pw.load(false)?;
    let (plain, used) = decrypt_input(file, &secrets)?;
    let secret = match encrypt_vault_id {
        Some(l) => pick_encrypt_secret(&secrets, Some(l))?,
        None => secrets.iter().find(|s| s.label == used).ok_or_else(|| anyhow!("internal: the secret used is gone"))?,
    };
    let edited = run_editor(file, &plain)?;
    if *edited == *plain {
        eprintln!("{} not changed", file.display());
        return Ok(());
    }
    write_output(file, super::encrypt(&edited, secret)?.as_bytes())
}

/// A new vault file written in $EDITOR (refused when the file exists, as ansible-vault create).
pub fn create(file: &Path, encrypt_vault_id: Option<&str>, pw: &PasswordArgs) -> Result<()> {
    if file.exists() {
        bail!("{} exists already: use `edit`", file.display());
    }
    let secrets = pw.load(true)?;
    let secret = pick_encrypt_secret(&secrets, encrypt_vault_id)?;
    let text = run_editor(file, b"")?;
    write_output(file, super::encrypt(&text, secret)?.as_bytes())
}

/// `$EDITOR` (default vi) on a temporary file holding `initial`; its content afterwards.
fn run_editor(file: &Path, initial: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    // NamedTempFile is created 0600; the suffix keeps the editor's syntax highlighting
    let suffix = file.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let mut tmp = tempfile::Builder::new().prefix("mdxconf-vault-").suffix(&suffix).tempfile()?;
    tmp.write_all(initial)?;
    tmp.as_file().sync_all()?;
    let editor = std::env::var("EDITOR").ok().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "vi".into());
    let status = std::process::Command::new("sh").arg("-c").arg(format!("{editor} \"$1\"")).arg("sh").arg(tmp.path()).status();
    let edited = Zeroizing::new(std::fs::read(tmp.path())?);
    let wipe = vec![0u8; edited.len().max(initial.len())];
    let _ = std::fs::OpenOptions::new().write(true).open(tmp.path()).and_then(|mut f| f.write_all(&wipe).and_then(|_| f.sync_all()));
    drop(tmp);
    let status = status.with_context(|| format!("cannot run the editor '{editor}'"))?;
    if !status.success() {
        bail!("the editor '{editor}' failed ({status}); {} is unchanged", file.display());
    }
    Ok(edited)
}
