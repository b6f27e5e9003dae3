//! Ansible Vault: files and `!vault` values encrypted with a password (formats 1.1 and 1.2, AES256).
//!
//! - [`format`]: the text envelope (header, hex body in 80-column lines).
//! - [`crypto`]: key derivation, AES-256-CTR, HMAC check, padding.
//! - [`secrets`]: passwords from files, scripts and prompts; which to try first.
//! - [`store`]: the passwords of this run, used wherever a file or value is read.
//! - `cli`, `edit` (feature `cli`): `mdxconf vault encrypt|decrypt|view|edit|create|encrypt_string|rekey`.
#[cfg(feature = "cli")]
pub mod cli;
pub mod crypto;
#[cfg(feature = "cli")]
mod edit;
pub mod format;
pub mod secrets;
pub mod store;
mod tty;

pub use format::is_vault;
pub use secrets::{Secret, SecretSpec};
use zeroize::Zeroizing;

/// What can go wrong with a vault; no variant carries plaintext or a password.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("malformed vault data: {0}")]
    Format(String),
    /// The HMAC does not match: a wrong password or altered data
    #[error("HMAC check failed")]
    HmacMismatch,
    #[error("{0}")]
    Password(String),
    #[error(
        "vault-encrypted data, but no vault password was given: use --vault-password-file FILE, --vault-id [LABEL@]SOURCE or --ask-vault-pass (or set ANSIBLE_VAULT_PASSWORD_FILE)"
    )]
    NoSecrets,
    #[error("decryption failed: no given vault password opens it (tried vault ids: {0}); wrong password?")]
    WrongPassword(String),
}

/// Decrypt a vault text with the first of `secrets` that opens it (those labelled as the vault first).
/// Returns the plaintext and the label of the secret that worked.
pub fn decrypt(text: &[u8], secrets: &[Secret]) -> Result<(Zeroizing<Vec<u8>>, String), VaultError> {
    let env = format::parse(text)?;
    if secrets.is_empty() {
        return Err(VaultError::NoSecrets);
    }
    let tried = secrets::candidates(secrets, env.label.as_deref());
    for s in &tried {
        match crypto::decrypt(&env.ciphertext, &env.hmac, s.bytes(), &env.salt) {
            Ok(plain) => return Ok((plain, s.label.clone())),
            Err(VaultError::HmacMismatch) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(VaultError::WrongPassword(tried.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(", ")))
}

/// Encrypt `plaintext` as a vault text with `secret` (its label is written unless `default`: format 1.2).
pub fn encrypt(plaintext: &[u8], secret: &Secret) -> Result<String, VaultError> {
    // a fresh salt from the OS, as Ansible's os.urandom(32)
    let mut salt = [0u8; crypto::SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| VaultError::Format(format!("no random salt from the OS: {e}")))?;
    encrypt_with_salt(plaintext, secret, &salt)
}

/// [`encrypt`] with a given salt (tests; known vectors).
pub fn encrypt_with_salt(plaintext: &[u8], secret: &Secret, salt: &[u8]) -> Result<String, VaultError> {
    if is_vault(plaintext) {
        return Err(VaultError::Format("the input is already vault-encrypted".into()));
    }
    let (hmac, ct) = crypto::encrypt(plaintext, secret.bytes(), salt)?;
    Ok(format::format(salt, &hmac, &ct, Some(&secret.label)))
}
