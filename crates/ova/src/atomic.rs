//! Output file that appears at its final path only when complete. Linux: an unnamed O_TMPFILE in the
//! destination directory, linked under a temporary name and renamed over the target at commit, so even
//! SIGKILL leaves nothing behind. Elsewhere (or on filesystems without O_TMPFILE): a hidden temp name
//! removed on drop; a SIGKILL can leave that hidden file, but never a file at the final path.
use anyhow::{Context, Result};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};

pub struct AtomicFile {
    pub file: File,
    final_path: PathBuf,
    /// Some(path) when the fallback named temp file is in use (removed on drop unless committed).
    named: Option<PathBuf>,
    committed: bool,
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_name(final_path: &Path) -> PathBuf {
    let base = final_path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    dir_of(final_path).join(format!(".{base}.partial-{}", std::process::id()))
}

impl AtomicFile {
    pub fn create(final_path: &Path) -> Result<Self> {
        let dir = dir_of(final_path);
        let cdir = CString::new(dir.as_os_str().as_bytes())?;
        let fd = unsafe { libc::open(cdir.as_ptr(), libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC, 0o644) };
        if fd >= 0 {
            let file = unsafe { File::from_raw_fd(fd) };
            return Ok(AtomicFile { file, final_path: final_path.to_path_buf(), named: None, committed: false });
        }
        let tmp = temp_name(final_path);
        let file = OpenOptions::new().read(true).write(true).create_new(true).mode(0o644).open(&tmp).with_context(|| format!("create temporary output {}", tmp.display()))?;
        Ok(AtomicFile { file, final_path: final_path.to_path_buf(), named: Some(tmp), committed: false })
    }

    /// Flushes to disk and moves the file to its final path (replacing any existing file atomically).
    pub fn commit(mut self) -> Result<()> {
        self.file.sync_all().context("fsync output")?;
        let tmp = match &self.named {
            Some(p) => p.clone(),
            None => {
                let tmp = temp_name(&self.final_path);
                let src = CString::new(format!("/proc/self/fd/{}", self.file.as_raw_fd()))?;
                let dst = CString::new(tmp.as_os_str().as_bytes())?;
                let rc = unsafe { libc::linkat(libc::AT_FDCWD, src.as_ptr(), libc::AT_FDCWD, dst.as_ptr(), libc::AT_SYMLINK_FOLLOW) };
                if rc != 0 {
                    return Err(std::io::Error::last_os_error()).with_context(|| format!("link output as {}", tmp.display()));
                }
                self.named = Some(tmp.clone());
                tmp
            }
        };
        std::fs::rename(&tmp, &self.final_path).with_context(|| format!("rename to {}", self.final_path.display()))?;
        self.committed = true;
        if let Ok(d) = File::open(dir_of(&self.final_path)) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            if let Some(p) = &self.named {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}
