//! Disk image inputs, sparse-aware: raw files (holes found with SEEK_DATA/SEEK_HOLE) and qcow2 (parsed
//! directly: L1/L2 tables, zero and unallocated clusters, zlib-compressed clusters). Reads are positional
//! (pread) so many compression threads can read concurrently from one open file.
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

pub use crate::disk::{DiskImage, InputFormat};
use crate::qcow2::Qcow2;

pub fn open_disk(path: &Path, format: InputFormat) -> Result<Box<dyn DiskImage>> {
    let file = File::open(path).with_context(|| format!("open disk image {}", path.display()))?;
    let format = match format {
        InputFormat::Auto => {
            let mut magic = [0u8; 4];
            let n = file.read_at(&mut magic, 0).with_context(|| format!("read {}", path.display()))?;
            if n == 4 && magic == *b"QFI\xfb" {
                InputFormat::Qcow2
            } else {
                InputFormat::Raw
            }
        }
        f => f,
    };
    Ok(match format {
        InputFormat::Qcow2 => Box::new(Qcow2::open(file).with_context(|| format!("qcow2 image {}", path.display()))?),
        _ => Box::new(RawImage::open(file).with_context(|| format!("raw image {}", path.display()))?),
    })
}

pub struct RawImage {
    file: File,
    size: u64,
}

impl RawImage {
    pub fn open(file: File) -> Result<Self> {
        let meta = file.metadata()?;
        let size = if meta.file_type().is_file() {
            meta.len()
        } else {
            // Block devices report length 0 in metadata; ask the device.
            let end = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_END) };
            if end < 0 {
                bail!("cannot determine size: {}", std::io::Error::last_os_error());
            }
            end as u64
        };
        Ok(RawImage { file, size })
    }
}

impl DiskImage for RawImage {
    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn data_extents(&self) -> Result<Vec<(u64, u64)>> {
        // A private fd: lseek moves the file offset, which positional reads elsewhere do not use anyway.
        let f = self.file.try_clone()?;
        let fd = f.as_raw_fd();
        let mut out = Vec::new();
        let mut pos: i64 = 0;
        let size = self.size as i64;
        while pos < size {
            let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
            if data < 0 {
                let err = std::io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::ENXIO) => break, // no data after pos
                    // Filesystem without SEEK_DATA support: treat everything as data (zero grains still skipped).
                    Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => return Ok(vec![(0, self.size)]),
                    _ => return Err(err).context("lseek(SEEK_DATA)"),
                }
            }
            let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
            if hole < 0 {
                return Err(std::io::Error::last_os_error()).context("lseek(SEEK_HOLE)");
            }
            let end = hole.min(size);
            if end > data {
                out.push((data as u64, (end - data) as u64));
            }
            pos = hole;
        }
        Ok(out)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let avail = self.size.saturating_sub(offset).min(buf.len() as u64) as usize;
        self.file.read_exact_at(&mut buf[..avail], offset).with_context(|| format!("read at offset {offset}"))?;
        buf[avail..].fill(0);
        Ok(())
    }

    fn format_name(&self) -> &'static str {
        "raw"
    }
}
