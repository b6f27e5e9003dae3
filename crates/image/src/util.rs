//! Small helpers: atomic writes, sha256 of files.
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// [mdxconf_config::fs::write_atomic] (fsync'd temp file renamed into place), naming the file on error.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<()> {
    mdxconf_config::fs::write_atomic(path, content).with_context(|| format!("writing {}", path.display()))
}

/// A directory only its owner can enter (the build cache: logs can hold answer files and passwords),
/// created with its parents if missing and tightened if it exists.
/// An exclusive flock on `f` without waiting: `Ok(true)` taken, `Ok(false)` another holder has it.
pub fn try_flock(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor `f` owns for the whole call; no memory is involved
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

pub fn private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The virtual size of a disk image (any format qemu-img reads), in bytes.
pub async fn qcow2_virtual_size(path: &Path) -> Result<u64> {
    let out = crate::proc::output(tokio::process::Command::new("qemu-img").args(["info", "--output=json"]).arg(path)).await?;
    let v: serde_json::Value = serde_json::from_str(&out).with_context(|| format!("qemu-img info {}", path.display()))?;
    v["virtual-size"].as_u64().with_context(|| format!("qemu-img info {}: no virtual-size", path.display()))
}
