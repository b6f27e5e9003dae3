//! Structural checker for streamOptimized VMDKs (used by `mdxconf ova verify`): header, descriptor,
//! footer, grain directory and grain tables, and a sequential walk over every marker in the stream.
//! The two views must agree: every grain the tables point to is a grain marker in the stream and vice versa.
use super::*;
use flate2::{Decompress, FlushDecompress, Status};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// A byte range inside a file (e.g. a tar member) read with positional reads.
pub struct Region<'a> {
    pub file: &'a File,
    pub offset: u64,
    pub len: u64,
}

impl Region<'_> {
    /// Reads `buf.len()` bytes at `at`; an offset or length beyond the region (however large) is an error.
    fn read(&self, at: u64, buf: &mut [u8]) -> Result<(), String> {
        let end = at.checked_add(buf.len() as u64);
        let abs = self.offset.checked_add(at);
        match (end, abs) {
            (Some(end), Some(abs)) if end <= self.len => self.file.read_exact_at(buf, abs).map_err(|e| format!("read at {at}: {e}")),
            _ => Err(format!("read of {} bytes at {at} runs past the end ({} bytes): file truncated?", buf.len(), self.len)),
        }
    }
    fn sector(&self, s: u64) -> Result<[u8; 512], String> {
        let mut b = [0u8; 512];
        let at = s.checked_mul(SECTOR).ok_or_else(|| format!("sector {s} lies past the end ({} bytes)", self.len))?;
        self.read(at, &mut b)?;
        Ok(b)
    }
}

#[derive(Debug, Clone)]
pub struct VmdkInfo {
    pub capacity_bytes: u64,
    pub grains: u64,
    pub grain_tables: u64,
    pub create_type: String,
}

fn marker_fields(b: &[u8; 512]) -> (u64, u32, u32) {
    (u64::from_le_bytes(b[0..8].try_into().unwrap()), u32::from_le_bytes(b[8..12].try_into().unwrap()), u32::from_le_bytes(b[12..16].try_into().unwrap()))
}

/// Receives each grain's disk offset (bytes) and its 64 KiB of inflated data, in stream order.
pub type GrainSink<'s> = &'s mut dyn FnMut(u64, &[u8]) -> Result<(), String>;

/// Checks a streamOptimized VMDK. With `inflate`, every grain is decompressed and must yield exactly 64 KiB.
pub fn check(region: &Region, inflate: bool) -> Result<VmdkInfo, String> {
    check_with(region, inflate, None)
}

/// Writes the disk a streamOptimized VMDK holds into `dest` as a raw image of its capacity (sparse:
/// only the grains the stream carries are written), after checking it as `check` does.
pub fn extract_raw(region: &Region, dest: &File) -> Result<VmdkInfo, String> {
    let first = region.sector(0)?;
    let head = SparseHeader::parse(&first).map_err(|e| format!("header: {e}"))?;
    // the capacity is bounded before the raw file is sized by it
    fields::check_header("header", &first, &head, region.len / SECTOR)?;
    let capacity = head.capacity_sectors.checked_mul(SECTOR).ok_or("header: capacity overflows")?;
    dest.set_len(capacity).map_err(|e| format!("sizing the raw disk: {e}"))?;
    let mut sink = |at: u64, data: &[u8]| {
        let n = (capacity.saturating_sub(at)).min(data.len() as u64) as usize;
        dest.write_all_at(&data[..n], at).map_err(|e| format!("writing the raw disk at {at}: {e}"))
    };
    check_with(region, true, Some(&mut sink))
}

/// `check`, handing every inflated grain to `sink` (which implies `inflate`).
pub fn check_with(region: &Region, inflate: bool, mut sink: Option<GrainSink>) -> Result<VmdkInfo, String> {
    let inflate = inflate || sink.is_some();
    if !region.len.is_multiple_of(SECTOR) || region.len < 5 * SECTOR {
        return Err(format!("size {} is not a whole number of sectors or too small", region.len));
    }
    let total = region.len / SECTOR;
    let first = region.sector(0)?;
    let head = SparseHeader::parse(&first).map_err(|e| format!("header: {e}"))?;
    fields::check_header("header", &first, &head, total)?;
    fields::check_leading_gd(&head)?;
    let create_type = check_descriptor(region, &head)?;

    // Tail, where qemu looks for it (the last 1536 bytes): footer marker, footer, end-of-stream marker.
    let (eos_val, eos_size, eos_type) = marker_fields(&region.sector(total - 1)?);
    if (eos_val, eos_size, eos_type) != (0, 0, MARKER_EOS) {
        return Err(format!(
            "end-of-stream marker (last sector): expected value 0 size 0 type {MARKER_EOS}, found value {eos_val} size {eos_size} type {eos_type}: stream truncated?"
        ));
    }
    let (fm_val, fm_size, fm_type) = marker_fields(&region.sector(total - 3)?);
    if (fm_val, fm_size, fm_type) != (1, 0, MARKER_FOOTER) {
        return Err(format!(
            "footer marker (third sector from the end): expected value 1 size 0 type {MARKER_FOOTER}, found value {fm_val} size {fm_size} type {fm_type}: no footer + end-of-stream marker at the end, stream truncated?"
        ));
    }
    let last_header = region.sector(total - 2)?;
    let foot = SparseHeader::parse(&last_header).map_err(|e| format!("footer: {e}"))?;
    fields::check_header("footer", &last_header, &foot, total)?;
    fields::check_footer_agrees(&head, &foot)?;

    // Grain directory and grain tables.
    let gd_count = gt_count(head.capacity_sectors);
    let gd_secs = gd_sectors(head.capacity_sectors);
    let gd_at = foot.gd_offset;
    if gd_at < 1 || gd_at.saturating_add(gd_secs) > total - 3 {
        return Err(format!("grain directory offset {gd_at} out of range"));
    }
    let (gm_val, gm_size, gm_type) = marker_fields(&region.sector(gd_at - 1)?);
    if gm_size != 0 || gm_type != MARKER_GD || gm_val != gd_secs {
        return Err(format!("no GD marker (for {gd_secs} sectors) before the grain directory at sector {gd_at}"));
    }
    let mut gd = vec![0u8; (gd_secs * SECTOR) as usize];
    region.read(gd_at * SECTOR, &mut gd)?;
    let mut from_tables: BTreeMap<u64, u64> = BTreeMap::new(); // grain sector -> grain index
    let mut gts = 0;
    for gi in 0..gd_count {
        let gt_at = u32::from_le_bytes(gd[gi as usize * 4..gi as usize * 4 + 4].try_into().unwrap()) as u64;
        if gt_at == 0 {
            continue;
        }
        gts += 1;
        if gt_at < head.overhead_sectors.saturating_add(1) || gt_at + GT_SECTORS > gd_at {
            return Err(format!("grain table {gi} at sector {gt_at} out of range"));
        }
        let (m_val, m_size, m_type) = marker_fields(&region.sector(gt_at - 1)?);
        if m_size != 0 || m_type != MARKER_GT || m_val != GT_SECTORS {
            return Err(format!("no GT marker before grain table {gi} at sector {gt_at}"));
        }
        let mut gt = vec![0u8; (GT_SECTORS * SECTOR) as usize];
        region.read(gt_at * SECTOR, &mut gt)?;
        for e in 0..GTES_PER_GT {
            let at = u32::from_le_bytes(gt[e as usize * 4..e as usize * 4 + 4].try_into().unwrap()) as u64;
            if at == 0 {
                continue;
            }
            let grain = gi * GTES_PER_GT + e;
            if grain * GRAIN_SECTORS >= head.capacity_sectors {
                return Err(format!("grain table {gi} entry {e} lies beyond the disk capacity"));
            }
            if from_tables.insert(at, grain).is_some() {
                return Err(format!("grain at sector {at} referenced twice"));
            }
        }
    }

    // Sequential walk from the first grain to the end-of-stream marker.
    let mut s = head.overhead_sectors;
    let mut walked = 0u64;
    let mut inflate_buf = vec![0u8; GRAIN_BYTES as usize];
    loop {
        if s >= total {
            return Err("stream ends without an end-of-stream marker".into());
        }
        let b = region.sector(s)?;
        let (val, size, mtype) = marker_fields(&b);
        if size != 0 {
            // Grain marker: lba + compressed size + data.
            let Some(&grain) = from_tables.get(&s) else {
                return Err(format!("grain marker at sector {s} (lba {val}) not referenced by any grain table"));
            };
            if val != grain * GRAIN_SECTORS {
                return Err(format!("grain marker at sector {s} has lba {val}, grain table says {}", grain * GRAIN_SECTORS));
            }
            let secs = (12 + size as u64).div_ceil(SECTOR);
            if s.saturating_add(secs) > total {
                return Err(format!("grain at sector {s} runs past the end of the file (truncated?)"));
            }
            if inflate {
                let mut data = vec![0u8; size as usize];
                region.read(s * SECTOR + 12, &mut data)?;
                inflate_grain(&data, &mut inflate_buf).map_err(|e| format!("grain at sector {s} (lba {val}): {e}"))?;
                if let Some(sink) = sink.as_mut() {
                    sink(val * SECTOR, &inflate_buf)?;
                }
            }
            walked += 1;
            s += secs;
            continue;
        }
        match mtype {
            MARKER_EOS if val == 0 => {
                if s != total - 1 {
                    return Err(format!("end-of-stream marker at sector {s} is not the last sector"));
                }
                break;
            }
            // checked: a crafted marker value must not wrap the position back to the start (endless walk)
            MARKER_GT | MARKER_GD | MARKER_FOOTER => {
                let next = s
                    .checked_add(1)
                    .and_then(|x| x.checked_add(val))
                    .filter(|&n| n <= total)
                    .ok_or_else(|| format!("marker at sector {s} skips {val} sectors, past the end of the stream"))?;
                let (name, want) = match mtype {
                    MARKER_GT => ("grain table", GT_SECTORS),
                    MARKER_GD => ("grain directory", gd_secs),
                    _ => ("footer", 1),
                };
                if val != want {
                    return Err(format!("{name} marker at sector {s}: expected value {want} (sectors), found {val}"));
                }
                s = next;
            }
            // Any other type with size 0 is a corrupt or unknown marker: the stream cannot be trusted.
            _ => return Err(format!("unknown marker type {mtype} at sector {s}")),
        }
    }
    if walked != from_tables.len() as u64 {
        return Err(format!("{} grains in the stream but {} referenced by grain tables", walked, from_tables.len()));
    }
    Ok(VmdkInfo { capacity_bytes: head.capacity_sectors * SECTOR, grains: walked, grain_tables: gts, create_type })
}

fn check_descriptor(region: &Region, head: &SparseHeader) -> Result<String, String> {
    // fields::check_header bounded the descriptor by overHead, which is bounded by the file size; 2048
    // sectors (1 MiB) is also qemu's cap on what it reads of a descriptor
    if head.descriptor_sectors > 2048 {
        return Err(format!("header descriptorSize: expected at most 2048 sectors, found {}", head.descriptor_sectors));
    }
    let mut d = vec![0u8; (head.descriptor_sectors * SECTOR) as usize];
    region.read(head.descriptor_offset * SECTOR, &mut d)?;
    let end = d.iter().position(|&c| c == 0).unwrap_or(d.len());
    let text = std::str::from_utf8(&d[..end]).map_err(|_| "descriptor is not UTF-8".to_string())?;
    fields::check_descriptor_text(text, head.capacity_sectors)
}

/// Inflates a zlib-format grain; it must decode to exactly one grain.
pub fn inflate_grain(data: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut d = Decompress::new(true);
    match d.decompress(data, out, FlushDecompress::Finish) {
        Ok(Status::StreamEnd) if d.total_out() == GRAIN_BYTES => Ok(()),
        Ok(_) => Err(format!("inflates to {} bytes, expected {GRAIN_BYTES}", d.total_out())),
        Err(e) => Err(format!("inflate: {e}")),
    }
}
