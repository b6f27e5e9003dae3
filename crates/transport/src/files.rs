//! File helpers built on `Connection::exec`: remote and local sha256. (Files are written by the modules
//! crate's one atomic writer, ops/write.rs.)
use crate::quote::{become_command, sh_quote};
use crate::{Connection, TransportError};

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
