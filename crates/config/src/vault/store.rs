//! The vault passwords of this process (set once by the CLI from its options), so every reader of a
//! controller file — YAML loaders, templates, copy sources — decrypts without passing them around.
use super::{Secret, VaultError};
use crate::error::ConfigError;
use std::path::Path;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

static SECRETS: RwLock<Option<Arc<Vec<Secret>>>> = RwLock::new(None);

/// Make `secrets` the passwords used from now on (replacing any earlier ones).
pub fn install(secrets: Vec<Secret>) {
    if let Ok(mut g) = SECRETS.write() {
        *g = Some(Arc::new(secrets));
    }
}

/// Have passwords been installed (even none)?
pub fn is_installed() -> bool {
    SECRETS.read().map(|g| g.is_some()).unwrap_or(false)
}

fn current() -> Arc<Vec<Secret>> {
    SECRETS.read().ok().and_then(|g| g.clone()).unwrap_or_default()
}

/// Decrypt vault data with the installed passwords.
pub fn decrypt(data: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    super::decrypt(data, &current()).map(|(p, _)| p)
}

/// The content of a controller file as bytes: decrypted when it is a vault; errors name the file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let data = std::fs::read(path).map_err(|e| ConfigError::at(path, 0, 0, format!("cannot read file: {e}")))?;
    if !super::is_vault(&data) {
        return Ok(data);
    }
    decrypt(&data).map(|p| p.to_vec()).map_err(|e| ConfigError::at(path, 1, 1, format!("cannot decrypt this vault-encrypted file: {e}")))
}

/// [`read_file`] for text (UTF-8).
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    String::from_utf8(read_file(path)?).map_err(|_| ConfigError::at(path, 0, 0, "cannot read file: stream did not contain valid UTF-8"))
}

/// A later error (e.g. YAML syntax) in the decrypted text of vault file `path`: same file:line:col, but
/// without the source snippet, which would show ciphertext lines (and must never show plaintext).
pub fn in_decrypted(path: &Path, mut e: ConfigError) -> ConfigError {
    if e.file == path && std::fs::read(path).is_ok_and(|d| super::is_vault(&d)) {
        e.src = None;
        e.span = None;
        e.message.push_str(" (in the decrypted content of this vault file)");
    }
    e
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    // this crate's unit tests never install passwords (the integration tests do, in their own process)
    #[test]
    fn a_vault_file_without_passwords_names_the_file_and_the_options() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("secret.yml");
        let text = super::super::encrypt(b"a: 1\n", &super::Secret::new("default", b"pw".to_vec())).unwrap();
        std::fs::write(&f, text).unwrap();
        let e = super::read_text(&f).unwrap_err();
        assert_eq!(e.file, f);
        assert!(e.message.contains("--vault-password-file") && e.message.contains("--ask-vault-pass"), "{e}");
        let plain = d.path().join("plain.yml");
        std::fs::write(&plain, "a: 1\n").unwrap();
        assert_eq!(super::read_text(&plain).unwrap(), "a: 1\n");
    }
}
