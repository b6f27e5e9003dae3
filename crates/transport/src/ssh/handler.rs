//! russh client handler: host key (and host certificate) verification against known_hosts.
use super::fail::{Fail, Kind};
use crate::host_cert::{cert_key_fingerprint, check_certificate, CertStatus};
use crate::known_hosts::{self, fingerprint, Status};
use crate::HostKeyPolicy;
use russh::keys::PublicKeyOrCertificate;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub(crate) struct Client {
    pub port: u16,
    pub host: String,
    pub known_hosts: Vec<PathBuf>,
    pub known_hosts_name: String,
    /// Name a host certificate must be issued for.
    pub cert_principal: String,
    pub policy: HostKeyPolicy,
    /// Jump host the connection goes through (ssh-keyscan must run where the host is reachable).
    pub via: Option<String>,
    /// Why we rejected the key: russh only reports "unknown key", we want the full story.
    pub failure: Arc<Mutex<Option<Fail>>>,
}

impl Client {
    fn reject(&self, msg: String) -> Result<bool, russh::Error> {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Fail::new(Kind::HostKey, msg));
        Ok(false)
    }

    fn files(&self) -> String {
        self.known_hosts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    }

    fn verify(&self, key: &russh::keys::PublicKey) -> Result<bool, russh::Error> {
        let name = &self.known_hosts_name;
        let fp = fingerprint(key);
        let alg = key.algorithm().to_string();
        match known_hosts::check(&self.known_hosts, name, key) {
            Status::Known => Ok(true),
            Status::Changed(e) => self.reject(format!(
                "REMOTE HOST KEY CHANGED for {name}: the server presents {alg} {fp}, but {}:{} records {}. \
                 This may be an attack, or the host was reinstalled. If you are sure the new key is right, \
                 remove the old entry with `ssh-keygen -R '{name}' -f {}` and connect again",
                e.path.display(),
                e.line,
                fingerprint(&e.key),
                e.path.display()
            )),
            Status::Revoked(e) => self.reject(format!("host key {fp} of {name} is marked @revoked in {}:{}", e.path.display(), e.line)),
            Status::Unknown { others } => {
                let Some(first) = self.known_hosts.first() else {
                    return self.reject(format!("no known_hosts file configured to verify {name}"));
                };
                // accept-new learns hosts that are not known at all: a host known with keys of other
                // types that now shows a new one is a changed host, as OpenSSH says.
                if self.policy == HostKeyPolicy::AcceptNew && !others.is_empty() {
                    let known: Vec<String> = others.iter().map(|o| format!("{} at {}:{}", o.key.algorithm(), o.path.display(), o.line)).collect();
                    return self.reject(format!(
                        "host key of {name} not recorded: the server presents {alg} {fp}, but the host is already known with other key types ({}); --accept-new-host-keys only records hosts that are not known at all. If the new key is right, add it with `ssh-keyscan -t {alg} -p {} {} >> {}`",
                        known.join(", "),
                        self.port,
                        self.host,
                        first.display()
                    ));
                }
                if self.policy == HostKeyPolicy::AcceptNew {
                    if let Err(e) = known_hosts::learn(first, name, key) {
                        return self.reject(format!("cannot record host key of {name} in {}: {e}", first.display()));
                    }
                    tracing::info!("learned host key of {name} ({alg} {fp}) into {}", first.display());
                    return Ok(true);
                }
                let other = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (known_hosts has only keys of other types for it, e.g. {}:{})", others[0].path.display(), others[0].line)
                };
                let keyscan = match &self.via {
                    None => format!("`ssh-keyscan -p {} {} >> {}`", self.port, self.host, first.display()),
                    Some(j) => format!("`ssh {j} ssh-keyscan -p {} {} >> {}` (the host is only reachable through {j})", self.port, self.host, first.display()),
                };
                self.reject(format!(
                    "host key of {name} is unknown{other}: server presents {alg} {fp}, not found in {}. \
                     Verify the fingerprint, then either add it with {keyscan} \
                     or rerun with --accept-new-host-keys to record new host keys automatically",
                    self.files(),
                ))
            }
        }
    }
}

impl Client {
    fn verify_certificate(&self, cert: &russh::keys::Certificate) -> Result<bool, russh::Error> {
        let name = &self.known_hosts_name;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let describe = || format!("host certificate of {name} (key id {:?}, serial {}, key {})", cert.key_id(), cert.serial(), cert_key_fingerprint(cert));
        match check_certificate(&self.known_hosts, name, &self.cert_principal, cert, now) {
            CertStatus::Trusted(ca) => {
                tracing::debug!("{} accepted: signed by the CA at {}:{}", describe(), ca.path.display(), ca.line);
                Ok(true)
            }
            CertStatus::Invalid { ca, reason } => {
                self.reject(format!("{} is signed by the CA {} trusted at {}:{}, but is not valid: {reason}", describe(), fingerprint(&ca.key), ca.path.display(), ca.line))
            }
            CertStatus::Revoked(e) => self.reject(format!(
                "{}: {} {} is marked @revoked in {}:{}",
                describe(),
                if e.key.key_data() == cert.public_key() { "its key" } else { "its signing CA" },
                fingerprint(&e.key),
                e.path.display(),
                e.line
            )),
            // No CA for this host signed it: judge the certificate's key as a plain host key
            // (OpenSSH does the same), and say which CA signed it if that fails too.
            CertStatus::NoCa => {
                tracing::debug!("{}: no @cert-authority signed it, checking the plain key", describe());
                let ok = self.verify(&russh::keys::PublicKey::new(cert.public_key().clone(), ""))?;
                if !ok {
                    let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(f) = failure.as_mut() {
                        f.msg = format!(
                            "{} is signed by CA {}, which no @cert-authority line for {name} in {} trusts; \
                             checked as a plain key instead: {}",
                            describe(),
                            fingerprint(&russh::keys::PublicKey::new(cert.signature_key().clone(), "")),
                            self.files(),
                            f.msg
                        );
                    }
                }
                Ok(ok)
            }
        }
    }
}

impl russh::client::Handler for Client {
    type Error = russh::Error;

    /// russh has already checked that the server signed the exchange with the key inside the
    /// certificate (client/kex.rs); whether the certificate itself is trustworthy is decided here.
    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.verify(key),
            PublicKeyOrCertificate::Certificate(cert) => self.verify_certificate(cert),
        }
    }
}
