//! Authentication in OpenSSH's order: ssh-agent keys, then identity files, then password.
use super::fail::{Fail, Kind};
use super::handler::Client;
use super::resolve::Endpoint;
use russh::client::{AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg};
use std::sync::Arc;

async fn rsa_hash(h: &Handle<Client>, is_rsa: bool) -> Option<HashAlg> {
    if !is_rsa {
        return None;
    }
    // Servers announce rsa-sha2-256/512 via EXT_INFO; plain ssh-rsa (SHA-1) only as a last resort.
    match h.best_supported_rsa_hash().await {
        Ok(Some(h)) => h,
        _ => Some(HashAlg::Sha256),
    }
}

fn lost(e: impl std::fmt::Display) -> Fail {
    Fail::new(Kind::Unreachable, format!("connection lost during authentication: {e}"))
}

pub(crate) async fn authenticate(h: &mut Handle<Client>, ep: &Endpoint) -> Result<(), Fail> {
    let user = ep.user.as_str();
    let mut tried: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let mut agent_keys: Vec<russh::keys::PublicKey> = Vec::new();

    if let Ok(mut agent) = AgentClient::connect_env().await {
        match agent.request_identities().await {
            Ok(ids) => {
                for id in ids {
                    let AgentIdentity::PublicKey { key, .. } = id else { continue };
                    // IdentitiesOnly: only agent keys that match a configured identity file.
                    if ep.identities_only && !ep.identity_files.iter().any(|f| pub_matches(f, &key)) {
                        continue;
                    }
                    let hash = rsa_hash(h, matches!(key.algorithm(), russh::keys::Algorithm::Rsa { .. })).await;
                    agent_keys.push(key.clone());
                    match h.authenticate_publickey_with(user, key, hash, &mut agent).await {
                        Ok(AuthResult::Success) => return Ok(()),
                        Ok(AuthResult::Failure { .. }) => {}
                        Err(e) => hints.push(format!("ssh-agent could not sign: {e}")),
                    }
                    if h.is_closed() {
                        return Err(lost("server closed the connection"));
                    }
                }
                if !agent_keys.is_empty() {
                    tried.push(format!("{} ssh-agent key(s)", agent_keys.len()));
                }
            }
            Err(e) => hints.push(format!("ssh-agent: {e}")),
        }
    }

    for path in &ep.identity_files {
        if !path.exists() {
            if ep.explicit_identities {
                hints.push(format!("identity file {} does not exist", path.display()));
            }
            continue;
        }
        let key = match russh::keys::load_secret_key(path, None) {
            Ok(k) => k,
            Err(russh::keys::Error::KeyIsEncrypted) => {
                hints.push(format!("identity file {} is passphrase-protected: load it into ssh-agent with `ssh-add {}`", path.display(), path.display()));
                continue;
            }
            Err(e) => {
                hints.push(format!("cannot read identity file {}: {e}", path.display()));
                continue;
            }
        };
        if agent_keys.iter().any(|k| k.key_data() == key.public_key().key_data()) {
            continue; // already offered through the agent
        }
        let hash = rsa_hash(h, matches!(key.algorithm(), russh::keys::Algorithm::Rsa { .. })).await;
        tried.push(format!("key {}", path.display()));
        match h.authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), hash)).await {
            Ok(AuthResult::Success) => return Ok(()),
            Ok(AuthResult::Failure { .. }) => {}
            Err(e) => return Err(lost(e)),
        }
    }

    if let Some(pw) = &ep.password {
        tried.push("password".into());
        match h.authenticate_password(user, pw).await {
            Ok(AuthResult::Success) => return Ok(()),
            Ok(AuthResult::Failure { .. }) => {}
            Err(e) => return Err(lost(e)),
        }
        // PAM servers often offer passwords only through keyboard-interactive (as ssh does, answer
        // the password prompt with it).
        tried.push("keyboard-interactive".into());
        match keyboard_interactive(h, user, pw).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(KbdError::Lost(e)) => return Err(lost(e)),
            Err(KbdError::Hint(m)) => hints.push(m),
        }
    }

    let tried = if tried.is_empty() { "nothing to try (no agent keys, no readable identity files, no password)".to_string() } else { format!("tried {}", tried.join(", ")) };
    let mut msg = format!("{}@{}:{} refused us: {tried}", user, ep.host, ep.port);
    for hint in hints {
        msg.push_str("; ");
        msg.push_str(&hint);
    }
    Err(Fail::new(Kind::Auth, msg))
}

fn pub_matches(private_path: &std::path::Path, key: &russh::keys::PublicKey) -> bool {
    let mut p = private_path.as_os_str().to_owned();
    p.push(".pub");
    russh::keys::load_public_key(std::path::Path::new(&p)).map(|k| k.key_data() == key.key_data()).unwrap_or(false)
}

enum KbdError {
    Lost(russh::Error),
    Hint(String),
}

/// Answer one round of echo-off prompts with the password; anything more (a forced password change,
/// an OTP) cannot be answered unattended.
async fn keyboard_interactive(h: &mut Handle<Client>, user: &str, pw: &str) -> Result<bool, KbdError> {
    use russh::client::KeyboardInteractiveAuthResponse as R;
    let mut resp = h.authenticate_keyboard_interactive_start(user, None).await.map_err(KbdError::Lost)?;
    let mut answered = false;
    for _ in 0..8 {
        match resp {
            R::Success => return Ok(true),
            R::Failure { .. } => return Ok(false),
            R::InfoRequest { prompts, .. } => {
                let answers = if prompts.is_empty() {
                    Vec::new()
                } else if !answered && prompts.len() == 1 && !prompts[0].echo {
                    answered = true;
                    vec![pw.to_string()]
                } else {
                    let asked: Vec<String> = prompts.iter().map(|p| p.prompt.trim().to_string()).collect();
                    return Err(KbdError::Hint(format!(
                        "the server asks more than a password ({}); if the password expired, set a new one first \
                         (mdxconf passwdinit)",
                        asked.join(" / ")
                    )));
                };
                resp = h.authenticate_keyboard_interactive_respond(answers).await.map_err(KbdError::Lost)?;
            }
        }
    }
    Ok(false)
}
