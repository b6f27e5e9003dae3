//! File helpers built on `Connection::exec`: atomic write and remote sha256.
use crate::quote::{become_command, sh_quote};
use crate::{Connection, ExecOutput, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (".", path),
    }
}

/// Shell script that writes stdin to `path` atomically.
/// The temp file lives in the target's directory so the final `mv` is a rename(2) on one filesystem:
/// readers see either the old or the new file, never a partial one. On any failure the temp file is
/// removed and the target is untouched. Without `mode`, an existing file keeps its mode and owner,
/// and a new file gets the umask default (as `cp` would).
pub fn atomic_write_script(path: &str, mode: Option<u32>) -> String {
    let (dir, base) = split_path(path);
    let uniq = format!(
        "{}.{}.{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = format!("{}/.{}.mdxconf-tmp.{}", dir.trim_end_matches('/'), base, uniq);
    let perms = match mode {
        Some(m) => format!("chmod {:o} \"$t\"", m & 0o7777),
        None => "if [ -e \"$p\" ]; then chmod --reference=\"$p\" \"$t\" && { chown --reference=\"$p\" \"$t\" 2>/dev/null || :; }; fi".to_string(),
    };
    format!("p={p}; t={t}; trap 'rm -f \"$t\"' EXIT; set -C && cat > \"$t\" && {perms} && mv -f \"$t\" \"$p\" && trap - EXIT", p = sh_quote(path), t = sh_quote(&tmp),)
}

/// Write `content` to `path` atomically (temp file in the same directory + rename), optionally chmod.
/// `rc != 0` in the result means nothing was changed (stderr says why). Without `mode`, an existing
/// file keeps its mode/owner and a new one gets the umask default. With `become`, the whole sequence
/// (create temp, chmod, rename) runs under sudo.
pub async fn put_file_atomic(c: &dyn Connection, path: &str, content: Vec<u8>, mode: Option<u32>, become_user: Option<&str>) -> Result<ExecOutput, TransportError> {
    let script = atomic_write_script(path, mode);
    c.exec(&become_command(c.login_user(), &script, become_user), Some(content)).await
}

/// sha256 hex of a file on the host, or None when it does not exist.
pub async fn remote_sha256(c: &dyn Connection, path: &str, become_user: Option<&str>) -> Result<Option<String>, TransportError> {
    // Reading via stdin keeps sha256sum from escaping odd file names in its output.
    let p = sh_quote(path);
    let script = format!("if [ ! -e {p} ]; then echo MISSING; else sha256sum < {p}; fi");
    let out = c.exec(&become_command(c.login_user(), &script, become_user), None).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.split_whitespace().next().unwrap_or("");
    if out.rc != 0 {
        return Err(TransportError::Other { host: c.host().to_string(), msg: format!("sha256 of {path} failed (rc {}): {}", out.rc, String::from_utf8_lossy(&out.stderr).trim()) });
    }
    if first == "MISSING" {
        return Ok(None);
    }
    if first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Some(first.to_ascii_lowercase()));
    }
    Err(TransportError::Other { host: c.host().to_string(), msg: format!("unexpected sha256sum output for {path}: {text:?}") })
}

/// sha256 hex of local bytes, to compare with [`remote_sha256`] before sending a file.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
