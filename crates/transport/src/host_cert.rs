//! OpenSSH host certificates: a known_hosts `@cert-authority <patterns> <ca-key>` line trusts any
//! host certificate that CA signed for the host, as ssh(1) does (sshconnect.c check_host_key and
//! sshkey_cert_check_host): the certificate must be a *host* certificate, signed by that CA, valid
//! now (valid-after <= now < valid-before), list the host name among its principals (exact match,
//! an empty list means any host) and carry no critical options. `@revoked` lines matching the host
//! revoke the certificate's key or its CA.
use crate::known_hosts::{entries_for, fingerprint, Entry};
use russh::keys::ssh_key::certificate::CertType;
use russh::keys::ssh_key::{Certificate, HashAlg, PublicKey};
use std::path::PathBuf;

#[derive(Debug)]
pub enum CertStatus {
    /// Signed by the CA on this `@cert-authority` entry and valid for the host.
    Trusted(Entry),
    /// A CA trusted for this host signed it, but the certificate is not valid for the host now.
    Invalid { ca: Entry, reason: String },
    /// The certificate's key or its CA key is marked `@revoked`.
    Revoked(Entry),
    /// No `@cert-authority` entry for this host holds the signing key: OpenSSH then checks the
    /// certificate's key as a plain host key, and so do we.
    NoCa,
}

/// True when some `@cert-authority` line matches `name` (then the client asks for certificates).
pub fn has_cert_authority(files: &[PathBuf], name: &str) -> bool {
    entries_for(files, name).iter().any(|e| e.ca && !e.revoked)
}

/// Check `cert` for the host known as `name` in known_hosts (`host` or `[host]:port`); `principal`
/// is the name the certificate must be issued for (HostKeyAlias if set, else the host name, no port).
pub fn check_certificate(files: &[PathBuf], name: &str, principal: &str, cert: &Certificate, now: u64) -> CertStatus {
    let entries = entries_for(files, name);
    let signer = cert.signature_key();
    if let Some(e) = entries.iter().find(|e| e.revoked && (e.key.key_data() == cert.public_key() || e.key.key_data() == signer)) {
        return CertStatus::Revoked(e.clone());
    }
    let Some(ca) = entries.iter().find(|e| e.ca && !e.revoked && e.key.key_data() == signer) else {
        return CertStatus::NoCa;
    };
    match problem(cert, principal, now, ca) {
        None => CertStatus::Trusted(ca.clone()),
        Some(reason) => CertStatus::Invalid { ca: ca.clone(), reason },
    }
}

/// Why the certificate is not valid for `principal` at `now`, or None.
fn problem(cert: &Certificate, principal: &str, now: u64, ca: &Entry) -> Option<String> {
    if cert.cert_type() != CertType::Host {
        return Some("it is a user certificate, not a host certificate".into());
    }
    if cert.verify_signature().is_err() {
        return Some("its signature does not verify with the CA key".into());
    }
    if now < cert.valid_after() {
        return Some(format!("it is not valid before {}", utc(cert.valid_after())));
    }
    if now >= cert.valid_before() {
        return Some(format!("it expired at {}", utc(cert.valid_before())));
    }
    let principals = cert.valid_principals();
    if !principals.is_empty() && !principals.iter().any(|p| p == principal) {
        return Some(format!("its principals [{}] do not include {principal:?}", principals.join(", ")));
    }
    if !cert.critical_options().is_empty() {
        let names: Vec<&str> = cert.critical_options().keys().map(String::as_str).collect();
        return Some(format!("it has unsupported critical options: {}", names.join(", ")));
    }
    // The library's own check (signature, CA fingerprint, validity window) must agree.
    let ca_fp = ca.key.fingerprint(HashAlg::Sha256);
    cert.validate_at(now, [&ca_fp]).err().map(|e| format!("it failed validation: {e}"))
}

/// `fingerprint` of the key inside a certificate, for messages.
pub fn cert_key_fingerprint(cert: &Certificate) -> String {
    fingerprint(&PublicKey::new(cert.public_key().clone(), ""))
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC` (civil-from-days, no time crate needed).
fn utc(secs: u64) -> String {
    if secs == u64::MAX {
        return "forever".into();
    }
    let rem = secs % 86_400;
    format!("{} {:02}:{:02}:{:02} UTC", civil_date((secs / 86_400) as i64), rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (Howard Hinnant's civil-from-days; no time crate needed).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_798_761_599), "2026-12-31 23:59:59 UTC");
    }
}
