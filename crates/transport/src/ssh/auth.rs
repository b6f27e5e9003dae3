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
                hints.push(format!(
                    "identity file {} is passphrase-protected: load it into ssh-agent with `ssh-add {}`",
                    path.display(),
                    path.display()
                ));
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
