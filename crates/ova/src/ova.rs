//! OVA assembly: `NAME.ovf`, `NAME.mf`, `NAME-disk1.vmdk` in one tar, written in a single pass.
//!
//! Why this layout works in one pass: the manifest (member 2) needs the VMDK's hash and the OVF (member 1)
//! its size, but both are only known after the disk is written. The sizes of those two members are known
//! in advance, though: the manifest has fixed-width lines, and the OVF is reserved at the length it has
//! with the widest possible numbers (then padded with trailing spaces, which XML ignores). So the disk is
//! streamed straight into its tar member at a precomputed offset while being hashed, and the three small
//! headers and the OVF/manifest are written into the reserved space at the end. The input is read once
//! and the compressed data is written once; no temporary VMDK, no second copy.
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::io::{self, BufWriter, IsTerminal, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::atomic::AtomicFile;
use crate::input::{open_disk, InputFormat};
use crate::ovf::{self, OvfParams, VmHardware};
use crate::pipeline::{self, PipelineOptions};
use crate::tarfmt::{file_header, padded, BLOCK};
use crate::vmdk::{self, writer::StreamOptimizedWriter, GRAIN_BYTES, SECTOR};
use crate::vsphere::VsphereVersion;

/// Everything `export_ova` needs. The image crate fills this from a build record; the CLI from flags.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    pub disk: PathBuf,
    pub format: InputFormat,
    pub vm: VmHardware,
    /// The oldest vSphere the OVA must deploy on: its hardware version and guest id are checked against it.
    pub vsphere: VsphereVersion,
    pub output: PathBuf,
    /// mtime stored in every tar header (deterministic output).
    pub mtime: u64,
    /// zlib level 0-9 for grains.
    pub compression_level: u32,
    /// Compression threads; None = all available cores.
    pub threads: Option<usize>,
    /// Draw a progress bar on stderr (only if stderr is a terminal).
    pub progress: bool,
}

impl ExportSpec {
    /// Defaults for everything but the disk, name and output.
    pub fn new(disk: PathBuf, name: &str, output: PathBuf) -> Self {
        ExportSpec {
            disk,
            format: InputFormat::Auto,
            vm: VmHardware { name: name.to_string(), ..VmHardware::default() },
            vsphere: VsphereVersion::default(),
            output,
            mtime: default_mtime(),
            compression_level: 1,
            threads: None,
            progress: false,
        }
    }
}

/// SOURCE_DATE_EPOCH if set (reproducible builds convention), else 0.
pub fn default_mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[derive(Debug, Clone)]
pub struct ExportReport {
    pub output: PathBuf,
    pub ova_bytes: u64,
    pub capacity: u64,
    pub vmdk_bytes: u64,
    pub populated_bytes: u64,
    pub grains: u64,
    pub vmdk_sha256: String,
    pub ovf_sha256: String,
    pub input_format: &'static str,
    pub elapsed: Duration,
}

pub fn member_names(name: &str) -> (String, String, String) {
    (format!("{name}.ovf"), format!("{name}.mf"), format!("{name}-disk1.vmdk"))
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        bail!("invalid VM name {name:?}: use 1-64 of [A-Za-z0-9._-], starting with a letter or digit");
    }
    Ok(())
}

/// Hashes and counts everything written through it.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn manifest(entries: &[(&str, &str)]) -> String {
    entries.iter().map(|(name, hex)| format!("SHA256({name})= {hex}\n")).collect()
}

pub fn export_ova(spec: &ExportSpec) -> Result<ExportReport> {
    let started = Instant::now();
    check_name(&spec.vm.name)?;
    if spec.vm.cpus == 0 || spec.vm.memory_mib == 0 {
        bail!("cpus and memory must be at least 1");
    }
    if spec.compression_level > 9 {
        bail!("compression level must be 0-9");
    }
    ovf::guest_os(&spec.vm.os_type)?;
    spec.vsphere.check(spec.vm.vmx_version, &spec.vm.os_type)?;
    let (ovf_name, mf_name, vmdk_name) = member_names(&spec.vm.name);
    let disk = open_disk(&spec.disk, spec.format)?;
    // a whole number of KiB: vSphere reads ovf:capacity in KiB, and an odd sector count would leave a
    // fraction (the padding reads as zeros)
    let capacity = disk.virtual_size().div_ceil(1024) * 1024;
    if capacity == 0 {
        bail!("{}: disk image is empty", spec.disk.display());
    }
    let capacity_sectors = capacity / SECTOR;
    let extents = disk.data_extents().with_context(|| format!("scan {} for data", spec.disk.display()))?;
    let grains = pipeline::candidate_grains(&extents, capacity);

    let mut params = OvfParams { vm: spec.vm.clone(), disk_file: vmdk_name.clone(), disk_capacity: capacity, disk_file_size: u64::MAX, populated_size: i64::MAX as u64 };
    let ovf_reserved = ovf::render(&params)?.len() as u64;
    let zero_hash = "0".repeat(64);
    let mf_len = manifest(&[(&ovf_name, &zero_hash), (&vmdk_name, &zero_hash)]).len() as u64;
    let mf_header_at = BLOCK + padded(ovf_reserved);
    let disk_header_at = mf_header_at + BLOCK + padded(mf_len);
    let disk_data_at = disk_header_at + BLOCK;

    let out = AtomicFile::create(&spec.output).with_context(|| format!("create {}", spec.output.display()))?;
    // A second handle so the writers' borrows end independently of `out`, which commit() consumes.
    let owned = out.file.try_clone()?;
    let mut file = &owned;
    file.seek(SeekFrom::Start(disk_data_at))?;

    let digest: [u8; 4] = Sha256::digest(format!("{}\0{capacity}", spec.vm.name).as_bytes())[..4].try_into().unwrap();
    let cid = u32::from_le_bytes(digest);
    let descriptor = vmdk::descriptor_text(capacity_sectors, &vmdk_name, cid, "lsilogic", 4);
    let sink = HashingWriter { inner: BufWriter::with_capacity(1 << 20, file), hash: Sha256::new(), bytes: 0 };
    let writer = StreamOptimizedWriter::new(sink, capacity_sectors, &descriptor)?;

    let bar = progress_bar(spec.progress, grains.len() as u64 * GRAIN_BYTES);
    let on_progress = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n)
        }
    };
    let threads = spec.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let opts = PipelineOptions { threads, level: spec.compression_level, progress: &on_progress };
    let (sink, stats) = pipeline::run(disk.as_ref(), &grains, writer, &opts)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let HashingWriter { inner, hash, bytes: vmdk_bytes } = sink;
    let mut tail = inner.into_inner().map_err(|e| e.into_error())?;
    let vmdk_sha256 = hex::encode(hash.finalize());

    // Tar padding for the disk member and the end-of-archive blocks.
    let pad = padded(vmdk_bytes) - vmdk_bytes;
    tail.write_all(&vec![0u8; (pad + 2 * BLOCK) as usize])?;
    let ova_bytes = disk_data_at + padded(vmdk_bytes) + 2 * BLOCK;

    params.disk_file_size = vmdk_bytes;
    params.populated_size = stats.grains * GRAIN_BYTES;
    let mut ovf_text = ovf::render(&params)?;
    let short = ovf_reserved as usize - ovf_text.len();
    ovf_text.truncate(ovf_text.len() - 1);
    ovf_text.push_str(&" ".repeat(short));
    ovf_text.push('\n');
    let ovf_sha256 = hex::encode(Sha256::digest(ovf_text.as_bytes()));
    let mf_text = manifest(&[(&ovf_name, &ovf_sha256), (&vmdk_name, &vmdk_sha256)]);
    debug_assert_eq!(mf_text.len() as u64, mf_len);

    let mut head = Vec::with_capacity(disk_data_at as usize);
    head.extend_from_slice(&file_header(&ovf_name, ovf_reserved, spec.mtime)?);
    head.extend_from_slice(ovf_text.as_bytes());
    head.resize(mf_header_at as usize, 0);
    head.extend_from_slice(&file_header(&mf_name, mf_len, spec.mtime)?);
    head.extend_from_slice(mf_text.as_bytes());
    head.resize(disk_header_at as usize, 0);
    head.extend_from_slice(&file_header(&vmdk_name, vmdk_bytes, spec.mtime)?);
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&head)?;
    out.commit()?;

    Ok(ExportReport {
        output: spec.output.clone(),
        ova_bytes,
        capacity,
        vmdk_bytes,
        populated_bytes: stats.grains * GRAIN_BYTES,
        grains: stats.grains,
        vmdk_sha256,
        ovf_sha256,
        input_format: disk.format_name(),
        elapsed: started.elapsed(),
    })
}

fn progress_bar(wanted: bool, total: u64) -> Option<indicatif::ProgressBar> {
    if !wanted || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})") {
        bar.set_style(style);
    }
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(check_name("ubuntu-24.04_gpu").is_ok());
        for bad in ["", "-x", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
