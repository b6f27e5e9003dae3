//! known_hosts reading (plain, wildcard, negated and hashed `|1|salt|hmac` entries, `@revoked`,
//! `@cert-authority` lines, checked in host_cert.rs) and appending for accept-new. Written here
//! rather than using russh::keys::known_hosts because
//! 0.65.1's reader splits on single spaces only, aborts the whole check on one unparsable line
//! (e.g. an `@cert-authority` marker), does not match wildcard patterns, and miscounts line
//! numbers after comments — and we want the line number in the "key changed" error.
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::{Algorithm, HashAlg, PublicKey};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// How a host appears in known_hosts: `host` on port 22, `[host]:port` otherwise (as OpenSSH writes it).
pub fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    pub line: usize,
    pub key: PublicKey,
    pub revoked: bool,
    /// An `@cert-authority` line: `key` is a CA trusted to sign host certificates for the hosts
    /// matching the line's patterns, not a host key itself.
    pub ca: bool,
}

#[derive(Debug)]
pub enum Status {
    /// A recorded key matches.
    Known,
    /// The host is recorded with a different key of the same type.
    Changed(Entry),
    /// The presented key is marked `@revoked`.
    Revoked(Entry),
    /// Not recorded (`others` lists recorded keys of other types, if any).
    Unknown { others: Vec<Entry> },
}

fn hashed_matches(entry: &str, name: &str) -> bool {
    let mut parts = entry.trim_start_matches("|1|").splitn(2, '|');
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Some(Ok(salt)), Some(Ok(hash))) = (parts.next().map(|s| b64.decode(s)), parts.next().map(|s| b64.decode(s))) else {
        return false;
    };
    let Ok(mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&salt) else { return false };
    mac.chain_update(name.as_bytes()).verify_slice(&hash).is_ok()
}

fn hosts_field_matches(field: &str, name: &str) -> bool {
    if field.starts_with("|1|") {
        return hashed_matches(field, name);
    }
    crate::pattern::list_matches(field.split(','), name)
}

/// One usable known_hosts line.
struct Line {
    line: usize,
    hosts: String,
    revoked: bool,
    ca: bool,
    b64: String,
}

/// A parsed file with an index: plain names map straight to their lines; only hashed and wildcard
/// entries are scanned per lookup. Thousands of hosts each looking up a thousands-line file would
/// otherwise re-read and re-match it every time.
struct Parsed {
    lines: Vec<Line>,
    by_name: HashMap<String, Vec<usize>>,
    scan: Vec<usize>,
}

/// (mtime, size, inode): any rewrite, append or replacement invalidates the cached parse.
type Stamp = (std::time::SystemTime, u64, u64);
type Cache = HashMap<PathBuf, (Stamp, Arc<Parsed>)>;
static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Default::default);

fn parse(text: &str) -> Parsed {
    let mut p = Parsed { lines: Vec::new(), by_name: HashMap::new(), scan: Vec::new() };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let mut first = f.next().unwrap_or("");
        let (mut revoked, mut ca) = (false, false);
        if first.starts_with('@') {
            match first {
                "@revoked" => revoked = true,
                "@cert-authority" => ca = true,
                _ => continue, // unknown marker: OpenSSH ignores the line too
            }
            first = f.next().unwrap_or("");
        }
        let (Some(_kind), Some(b64)) = (f.next(), f.next()) else { continue };
        let idx = p.lines.len();
        let plain = !first.starts_with("|1|") && !first.contains(['*', '?', '!']);
        if plain {
            for name in first.split(',') {
                p.by_name.entry(name.to_ascii_lowercase()).or_default().push(idx);
            }
        } else {
            p.scan.push(idx);
        }
        p.lines.push(Line { line: i + 1, hosts: first.to_string(), revoked, ca, b64: b64.to_string() });
    }
    p
}

fn parsed(path: &Path) -> Option<Arc<Parsed>> {
    let meta = std::fs::metadata(path).ok()?;
    let stamp = (meta.modified().ok()?, meta.len(), std::os::unix::fs::MetadataExt::ino(&meta));
    if let Some((st, p)) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        if *st == stamp {
            return Some(p.clone());
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let p = Arc::new(parse(&text));
    CACHE.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), (stamp, p.clone()));
    Some(p)
}

/// All entries in `files` whose host field matches `name` (already in `host_port` form).
pub fn entries_for(files: &[PathBuf], name: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let lower = name.to_ascii_lowercase();
    for path in files {
        let Some(p) = parsed(path) else { continue };
        let mut idx: Vec<usize> = p.by_name.get(&lower).cloned().unwrap_or_default();
        idx.extend(p.scan.iter().copied().filter(|i| hosts_field_matches(&p.lines[*i].hosts, name)));
        idx.sort_unstable();
        idx.dedup();
        for i in idx {
            let l = &p.lines[i];
            match russh::keys::parse_public_key_base64(&l.b64) {
                Ok(key) => out.push(Entry { path: path.clone(), line: l.line, key, revoked: l.revoked, ca: l.ca }),
                Err(e) => tracing::debug!("{}:{}: unreadable key ignored: {e}", path.display(), l.line),
            }
        }
    }
    out
}

fn same_type(a: &PublicKey, b: &PublicKey) -> bool {
    match (a.algorithm(), b.algorithm()) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
        (x, y) => x == y,
    }
}

pub fn check(files: &[PathBuf], name: &str, key: &PublicKey) -> Status {
    let entries = entries_for(files, name);
    if let Some(e) = entries.iter().find(|e| e.revoked && e.key.key_data() == key.key_data()) {
        return Status::Revoked(e.clone());
    }
    // A CA key vouches only for certificates; as a bare host key it is not trusted (OpenSSH).
    let live: Vec<&Entry> = entries.iter().filter(|e| !e.revoked && !e.ca).collect();
    if live.iter().any(|e| e.key.key_data() == key.key_data()) {
        return Status::Known;
    }
    if let Some(e) = live.iter().find(|e| same_type(&e.key, key)) {
        return Status::Changed((*e).clone());
    }
    Status::Unknown { others: live.into_iter().cloned().collect() }
}

/// Key algorithms already recorded for `name`, so the client can ask the server for one of those
/// first (as OpenSSH does) instead of failing on a host that also has an unrecorded ed25519 key.
pub fn known_algorithms(files: &[PathBuf], name: &str) -> Vec<Algorithm> {
    let mut algs = Vec::new();
    for e in entries_for(files, name) {
        if !e.revoked && !e.ca && !algs.contains(&e.key.algorithm()) {
            algs.push(e.key.algorithm());
        }
    }
    algs
}

static LEARN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Append `name keytype base64` to `path` (accept-new). Serialised in-process and skipped when another
/// connection learned the same key a moment ago; one write(2) per line so concurrent processes
/// appending with O_APPEND do not interleave.
pub fn learn(path: &Path, name: &str, key: &PublicKey) -> std::io::Result<()> {
    let _guard = LEARN_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if matches!(check(&[path.to_path_buf()], name, key), Status::Known) {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // like OpenSSH, a directory it has to create (~/.ssh) is private to the user
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let openssh = key.to_openssh().map_err(|e| std::io::Error::other(e.to_string()))?;
    // to_openssh() is "type base64 [comment]"; drop any comment.
    let mut parts = openssh.split_whitespace();
    let line = format!("{} {} {}\n", name, parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    // A file not ending in newline would glue our entry onto its last line.
    let len = f.metadata()?.len();
    let needs_nl = len > 0 && {
        use std::io::{Read, Seek, SeekFrom};
        let mut r = std::fs::File::open(path)?;
        r.seek(SeekFrom::Start(len - 1))?;
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        b[0] != b'\n'
    };
    let data = if needs_nl { format!("\n{line}") } else { line };
    f.write_all(data.as_bytes())
}

pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;

    #[test]
    fn learning_creates_a_private_directory() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let kh = home.path().join(".ssh/known_hosts");
        learn(&kh, "[127.0.0.2]:2222", &key(ED)).unwrap();
        let mode = std::fs::metadata(home.path().join(".ssh")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "~/.ssh is created 0700, as OpenSSH does");
        assert!(matches!(check(&[kh], "[127.0.0.2]:2222", &key(ED)), Status::Known));
    }

    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIEvIkpmim6NE+mXW6KuFdtt3h2t6TFiv/D8Dd4fJBDhx";
    const ED2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPRO4BDbFEE6A2/Pa61yw1pJA2TdzNy0LB8RoizAuvUC";

    fn key(b: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b).unwrap()
    }

    #[test]
    fn plain_hashed_wildcard_and_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kh");
        // a hashed entry as `ssh-keygen -H` writes it (HMAC-SHA1 of the name, keyed by the salt)
        let salt = base64::engine::general_purpose::STANDARD.encode(b"0123456789abcdef0123");
        let mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(b"0123456789abcdef0123").unwrap();
        let h = base64::engine::general_purpose::STANDARD.encode(mac.chain_update(b"[127.0.0.2]:2222").finalize().into_bytes());
        std::fs::write(&p, format!("# comment\n@cert-authority *.example ssh-ed25519 {ED}\n|1|{salt}|{h} ssh-ed25519 {ED}\n*.lab,!evil.lab\tssh-ed25519  {ED2}\n")).unwrap();
        let files = vec![p.clone()];
        assert!(matches!(check(&files, "[127.0.0.2]:2222", &key(ED)), Status::Known));
        // Plain multi-name entries are indexed, case-insensitively like OpenSSH.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(format!("alpha,Beta ssh-ed25519 {ED}\n").as_bytes()).unwrap();
        assert!(matches!(check(&files, "beta", &key(ED)), Status::Known));
        assert!(matches!(check(&files, "gamma", &key(ED)), Status::Unknown { .. }));
        assert!(matches!(check(&files, "vm.lab", &key(ED2)), Status::Known));
        assert!(matches!(check(&files, "evil.lab", &key(ED2)), Status::Unknown { .. }));
        match check(&files, "vm.lab", &key(ED)) {
            Status::Changed(e) => assert_eq!(e.line, 4),
            other => panic!("{other:?}"),
        }
        learn(&p, "[h]:2200", &key(ED)).unwrap();
        assert!(matches!(check(&files, "[h]:2200", &key(ED)), Status::Known));
        learn(&p, "[h]:2200", &key(ED)).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.matches("[h]:2200").count(), 1);
    }
}
