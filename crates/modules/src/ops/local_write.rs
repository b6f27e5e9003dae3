//! The controller-side atomic writer (fetch): a temp file beside the destination, renamed into place.
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Replace `path` with `content` atomically, creating missing directories. An existing file keeps its
/// permissions; a new one is 0644 whatever the umask, as Ansible's fetch leaves it.
pub fn write_local(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // unique per process and call: two hosts fetching into one directory at once do not collide
    let tmp = dir.join(format!(".{name}.mdxconf-tmp.{}.{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let perms = std::fs::metadata(path).map(|m| m.permissions()).unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644));
    let r = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(content)?;
        f.set_permissions(perms)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn new_files_are_0644_and_existing_keep_their_mode() {
        let d = std::env::temp_dir().join(format!("mdxconf-local-write-{}", std::process::id()));
        let p = d.join("sub/f");
        write_local(&p, b"one").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o644);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_local(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o600);
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "temp file left behind");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
