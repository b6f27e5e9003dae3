//! Deterministic tar headers. GNU format: sizes of 8 GiB and more use the base-256 size field, which
//! GNU tar, bsdtar, Python's tarfile and the tar crate all read.
use anyhow::{bail, Result};

pub const BLOCK: u64 = 512;

pub fn padded(len: u64) -> u64 {
    len.div_ceil(BLOCK) * BLOCK
}

/// A regular-file header with uid/gid 0, empty user/group names, mode 0644 and the given mtime, so the
/// same content always gives the same bytes.
pub fn file_header(name: &str, size: u64, mtime: u64) -> Result<[u8; 512]> {
    if name.len() > 100 || name.contains('/') || name.is_empty() {
        bail!("tar member name {name:?} must be 1-100 bytes without '/'");
    }
    let mut h = tar::Header::new_gnu();
    h.set_path(name)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_username("")?;
    h.set_groupname("")?;
    h.set_cksum();
    Ok(*h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};
    use std::process::Command;

    /// A 9 GiB member whose data is a hole: the header takes the base-256 path and both the tar crate
    /// and GNU tar must list the exact size, without 9 GiB ever being written to disk.
    #[test]
    fn member_of_nine_gib_has_a_readable_size() {
        let size: u64 = 9 << 30;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.tar");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&file_header("big.vmdk", size, 1_700_000_000).unwrap()).unwrap();
        f.seek(SeekFrom::Start(BLOCK + padded(size))).unwrap();
        f.write_all(&[0u8; 1024]).unwrap();
        drop(f);
        let disk_use = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::blocks(&m)).unwrap();
        assert!(disk_use < 1 << 20, "archive should be sparse");

        let mut ar = tar::Archive::new(std::fs::File::open(&path).unwrap());
        let sizes: Vec<(String, u64)> = ar
            .entries_with_seek()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().size().unwrap())
            })
            .collect();
        assert_eq!(sizes, vec![("big.vmdk".to_string(), size)]);

        let out = Command::new("tar").arg("tvf").arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let listing = String::from_utf8_lossy(&out.stdout);
        assert!(listing.contains(&size.to_string()) && listing.contains("big.vmdk"), "{listing}");
    }

    #[test]
    fn headers_are_deterministic_and_checksummed() {
        let a = file_header("x.ovf", 100, 0).unwrap();
        assert_eq!(a, file_header("x.ovf", 100, 0).unwrap());
        let h = tar::Header::from_byte_slice(&a);
        assert_eq!(h.cksum().unwrap(), {
            let mut s: u32 = a.iter().map(|&b| b as u32).sum();
            s -= a[148..156].iter().map(|&b| b as u32).sum::<u32>();
            s + 8 * b' ' as u32
        });
        assert!(file_header("a/b", 1, 0).is_err());
    }
}
