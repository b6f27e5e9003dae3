//! Minimal qcow2 reader (versions 2 and 3). Parsing the format directly keeps the export self-contained
//! and exact about holes: unallocated and zero-flagged clusters are never read. Features whose data is not
//! in this file alone (backing files, external data files) or not decodable here (encryption, zstd,
//! extended L2 entries) are refused with a clear message instead of silently exporting wrong data.
use anyhow::{bail, Context, Result};
use flate2::{Decompress, FlushDecompress, Status};
use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::disk::DiskImage;

const L2_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const L1_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const FLAG_COMPRESSED: u64 = 1 << 62;
const FLAG_ZERO: u64 = 1;

pub struct Qcow2 {
    file: File,
    size: u64,
    cluster_bits: u32,
    /// One L2 table per L1 entry (None = unallocated L1 entry).
    l2: Vec<Option<Vec<u64>>>,
}

enum Cluster {
    Zero,
    Data(u64),
    Compressed { offset: u64, len: u64 },
}

fn be32(b: &[u8], o: usize) -> u32 {
    u32::from_be_bytes(b[o..o + 4].try_into().unwrap())
}
fn be64(b: &[u8], o: usize) -> u64 {
    u64::from_be_bytes(b[o..o + 8].try_into().unwrap())
}

impl Qcow2 {
    pub fn open(file: File) -> Result<Self> {
        let mut h = [0u8; 112];
        let n = file.read_at(&mut h, 0)?;
        if n < 72 || &h[0..4] != b"QFI\xfb" {
            bail!("not a qcow2 file (bad magic)");
        }
        let version = be32(&h, 4);
        if version != 2 && version != 3 {
            bail!("unsupported qcow2 version {version}");
        }
        if be64(&h, 8) != 0 {
            bail!("qcow2 image has a backing file; flatten it first (qemu-img convert -O qcow2 in out)");
        }
        let cluster_bits = be32(&h, 20);
        if !(9..=21).contains(&cluster_bits) {
            bail!("invalid qcow2 cluster_bits {cluster_bits}");
        }
        let size = be64(&h, 24);
        if be32(&h, 32) != 0 {
            bail!("encrypted qcow2 images are not supported");
        }
        let l1_size = be32(&h, 36) as u64;
        let l1_offset = be64(&h, 40);
        if version == 3 {
            let incompatible = be64(&h, 72);
            if incompatible & 2 != 0 {
                bail!("qcow2 image is marked corrupt");
            }
            if incompatible & 4 != 0 {
                bail!("qcow2 images with an external data file are not supported");
            }
            if incompatible & 8 != 0 {
                let header_len = be32(&h, 100);
                if header_len > 104 && h[104] != 0 {
                    bail!("qcow2 compression type {} (zstd) is not supported; only zlib", h[104]);
                }
            }
            if incompatible & 16 != 0 {
                bail!("qcow2 extended L2 entries (subclusters) are not supported");
            }
            if incompatible & !0x1f != 0 {
                bail!("unknown qcow2 incompatible feature bits {incompatible:#x}");
            }
        }
        let cluster = 1u64 << cluster_bits;
        let l2_entries = cluster / 8;
        let needed_l1 = size.div_ceil(cluster).div_ceil(l2_entries);
        if l1_size < needed_l1 || l1_size > 32 * 1024 * 1024 {
            bail!("qcow2 L1 table size {l1_size} inconsistent with virtual size {size}");
        }
        let mut l1 = vec![0u8; (l1_size * 8) as usize];
        file.read_exact_at(&mut l1, l1_offset).context("read L1 table")?;
        let mut l2 = Vec::with_capacity(l1_size as usize);
        for i in 0..needed_l1 as usize {
            let off = be64(&l1, i * 8) & L1_OFFSET_MASK;
            if off == 0 {
                l2.push(None);
                continue;
            }
            let mut t = vec![0u8; cluster as usize];
            file.read_exact_at(&mut t, off).with_context(|| format!("read L2 table {i} at {off}"))?;
            l2.push(Some((0..l2_entries as usize).map(|j| be64(&t, j * 8)).collect()));
        }
        Ok(Qcow2 { file, size, cluster_bits, l2 })
    }

    fn cluster(&self, index: u64) -> Cluster {
        let per_l2 = 1u64 << (self.cluster_bits - 3);
        let Some(Some(table)) = self.l2.get((index / per_l2) as usize) else { return Cluster::Zero };
        let e = table[(index % per_l2) as usize];
        if e & FLAG_COMPRESSED != 0 {
            // Compressed descriptor: low x bits host offset, next bits = extra 512-byte sectors.
            let x = 62 - (self.cluster_bits - 8);
            let offset = e & ((1u64 << x) - 1);
            let sectors = ((e >> x) & ((1u64 << (62 - x)) - 1)) + 1;
            let len = sectors * 512 - (offset & 511);
            return Cluster::Compressed { offset, len };
        }
        if e & FLAG_ZERO != 0 {
            return Cluster::Zero;
        }
        match e & L2_OFFSET_MASK {
            0 => Cluster::Zero,
            off => Cluster::Data(off),
        }
    }

    fn read_compressed(&self, offset: u64, len: u64, out: &mut [u8]) -> Result<()> {
        let file_len = self.file.metadata()?.len();
        let len = len.min(file_len.saturating_sub(offset));
        let mut src = vec![0u8; len as usize];
        self.file.read_exact_at(&mut src, offset)?;
        // qcow2 stores raw deflate (no zlib header).
        let mut d = Decompress::new(false);
        match d.decompress(&src, out, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) | Ok(Status::Ok) | Ok(Status::BufError) if d.total_out() as usize == out.len() => Ok(()),
            Ok(_) => bail!("compressed cluster at {offset} inflates to {} bytes, expected {}", d.total_out(), out.len()),
            Err(e) => bail!("compressed cluster at {offset}: {e}"),
        }
    }
}

impl DiskImage for Qcow2 {
    fn virtual_size(&self) -> u64 {
        self.size
    }

    fn data_extents(&self) -> Result<Vec<(u64, u64)>> {
        let cluster = 1u64 << self.cluster_bits;
        let mut out: Vec<(u64, u64)> = Vec::new();
        for idx in 0..self.size.div_ceil(cluster) {
            if matches!(self.cluster(idx), Cluster::Zero) {
                continue;
            }
            let start = idx * cluster;
            let len = cluster.min(self.size - start);
            match out.last_mut() {
                Some((s, l)) if *s + *l == start => *l += len,
                _ => out.push((start, len)),
            }
        }
        Ok(out)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let cluster = 1u64 << self.cluster_bits;
        let mut done = 0usize;
        let mut scratch = Vec::new();
        while done < buf.len() {
            let pos = offset + done as u64;
            let in_cluster = pos % cluster;
            let n = ((cluster - in_cluster) as usize).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            if pos >= self.size {
                dst.fill(0);
            } else {
                match self.cluster(pos / cluster) {
                    Cluster::Zero => dst.fill(0),
                    Cluster::Data(host) => self.file.read_exact_at(dst, host + in_cluster).with_context(|| format!("read cluster at {host}"))?,
                    Cluster::Compressed { offset: host, len } => {
                        scratch.resize(cluster as usize, 0);
                        self.read_compressed(host, len, &mut scratch)?;
                        dst.copy_from_slice(&scratch[in_cluster as usize..in_cluster as usize + n]);
                    }
                }
                // The last cluster may extend beyond the virtual size: keep the tail zero.
                let valid = self.size.saturating_sub(pos).min(n as u64) as usize;
                dst[valid..].fill(0);
            }
            done += n;
        }
        Ok(())
    }

    fn format_name(&self) -> &'static str {
        "qcow2"
    }
}
