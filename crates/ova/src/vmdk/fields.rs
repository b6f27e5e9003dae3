//! The sparse header fields a streamOptimized VMDK must have, checked as qemu's block/vmdk.c reads
//! them (vmdk_open_vmdk4, vmdk_add_extent) and as mdxconf's writer promises: each mismatch names the
//! field and the expected and found values. qemu takes the footer in place of the leading header
//! when gdOffset is GD_AT_END, so the footer gets the same checks and must agree with the header.
use super::*;

/// qemu's limit on the grain size ("Invalid granularity"): 0x200000 sectors = 1 GiB.
pub const QEMU_MAX_GRAIN_SECTORS: u64 = 0x20_0000;
/// qemu's limit on grain directory entries ("L1 size too big").
pub const QEMU_MAX_GD_ENTRIES: u64 = 32 * 1024 * 1024;
/// The flags mdxconf writes: valid newline test, compressed grains, markers.
pub const STREAM_FLAGS: u32 = FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS;
const NEWLINE_BYTES: &[u8; 4] = b"\n \r\n";

fn mismatch(what: &str, field: &str, expected: impl std::fmt::Display, found: impl std::fmt::Display) -> String {
    format!("{what} {field}: expected {expected}, found {found}")
}

/// Checks one header sector (`what` is "header" or "footer") of a file of `total_sectors`.
/// `raw` is the sector as read (for the newline-detection bytes, which `SparseHeader` does not keep).
pub fn check_header(what: &str, raw: &[u8; 512], h: &SparseHeader, total_sectors: u64) -> Result<(), String> {
    let magic = u32::from_le_bytes(raw[0..4].try_into().unwrap_or_default());
    if magic != MAGIC {
        return Err(mismatch(what, "magic", format!("{MAGIC:#010x} (\"KDMV\")"), format!("{magic:#010x}")));
    }
    if h.version != VERSION {
        return Err(mismatch(what, "version", VERSION, h.version));
    }
    if h.flags != STREAM_FLAGS {
        let missing = STREAM_FLAGS & !h.flags;
        let extra = h.flags & !STREAM_FLAGS;
        return Err(format!(
            "{}{}",
            mismatch(what, "flags", format!("{STREAM_FLAGS:#x} (bit 0 valid newline test, bit 16 compressed grains, bit 17 markers)"), format!("{:#x}", h.flags)),
            match (missing, extra) {
                (0, e) => format!(" (unexpected bits {e:#x})"),
                (m, 0) => format!(" (missing bits {m:#x})"),
                (m, e) => format!(" (missing bits {m:#x}, unexpected bits {e:#x})"),
            }
        ));
    }
    if &raw[73..77] != NEWLINE_BYTES {
        return Err(format!("{} (file transferred in text mode?)", mismatch(what, "newline-detection bytes (offset 73)", "0a 20 0d 0a", hex::encode(&raw[73..77]))));
    }
    if h.compress_algorithm != COMPRESS_DEFLATE {
        return Err(mismatch(what, "compressAlgorithm", format!("{COMPRESS_DEFLATE} (deflate)"), h.compress_algorithm));
    }
    let g = h.grain_sectors;
    if !g.is_power_of_two() || g < 8 {
        return Err(mismatch(what, "grainSize", "a power of two of at least 8 sectors", g));
    }
    if g > QEMU_MAX_GRAIN_SECTORS {
        return Err(mismatch(what, "grainSize", format!("at most {QEMU_MAX_GRAIN_SECTORS} sectors (qemu refuses more)"), g));
    }
    if g != GRAIN_SECTORS {
        return Err(mismatch(what, "grainSize", format!("{GRAIN_SECTORS} sectors (64 KiB, what mdxconf writes and reads)"), g));
    }
    if h.gtes_per_gt as u64 != GTES_PER_GT {
        return Err(mismatch(what, "numGTEsPerGT", GTES_PER_GT, h.gtes_per_gt));
    }
    if h.capacity_sectors == 0 {
        // qemu reads a header with capacity 0 as a pointer to a separate descriptor file
        return Err(mismatch(what, "capacity", "at least 1 sector", 0));
    }
    if h.capacity_sectors.checked_mul(SECTOR).is_none() || gt_count(h.capacity_sectors) > QEMU_MAX_GD_ENTRIES {
        return Err(mismatch(
            what,
            "capacity",
            format!("at most {} sectors (qemu's grain directory limit)", QEMU_MAX_GD_ENTRIES * GTES_PER_GT * GRAIN_SECTORS),
            h.capacity_sectors,
        ));
    }
    if h.rgd_offset != 0 {
        return Err(mismatch(what, "rgdOffset", 0, h.rgd_offset));
    }
    if h.unclean_shutdown {
        return Err(mismatch(what, "uncleanShutdown", 0, 1));
    }
    if h.overhead_sectors == 0 || h.overhead_sectors > total_sectors {
        return Err(mismatch(what, "overHead", format!("1 to {total_sectors} sectors (the file's size)"), h.overhead_sectors));
    }
    let desc_end = h.descriptor_offset.checked_add(h.descriptor_sectors);
    if h.descriptor_offset == 0 || h.descriptor_sectors == 0 || desc_end.is_none_or(|e| e > h.overhead_sectors) {
        return Err(format!(
            "{what} descriptorOffset/descriptorSize: expected an embedded descriptor between sector 1 and overHead ({}), found offset {} size {}",
            h.overhead_sectors, h.descriptor_offset, h.descriptor_sectors
        ));
    }
    Ok(())
}

/// The leading header must defer to the footer (gdOffset = GD_AT_END), as a streamed file does.
pub fn check_leading_gd(h: &SparseHeader) -> Result<(), String> {
    if h.gd_offset != GD_AT_END {
        return Err(mismatch("header", "gdOffset", format!("{GD_AT_END:#x} (grain directory located by the footer)"), h.gd_offset));
    }
    Ok(())
}

/// The footer is what qemu reads in place of the header: every field but gdOffset must equal the
/// header's, and its gdOffset must be set.
pub fn check_footer_agrees(head: &SparseHeader, foot: &SparseHeader) -> Result<(), String> {
    let pairs: [(&str, u64, u64); 9] = [
        ("version", head.version.into(), foot.version.into()),
        ("flags", head.flags.into(), foot.flags.into()),
        ("capacity", head.capacity_sectors, foot.capacity_sectors),
        ("grainSize", head.grain_sectors, foot.grain_sectors),
        ("descriptorOffset", head.descriptor_offset, foot.descriptor_offset),
        ("descriptorSize", head.descriptor_sectors, foot.descriptor_sectors),
        ("numGTEsPerGT", head.gtes_per_gt.into(), foot.gtes_per_gt.into()),
        ("overHead", head.overhead_sectors, foot.overhead_sectors),
        ("compressAlgorithm", head.compress_algorithm.into(), foot.compress_algorithm.into()),
    ];
    for (field, h, f) in pairs {
        if h != f {
            return Err(mismatch("footer", field, format!("{h} (the header's)"), f));
        }
    }
    if foot.gd_offset == GD_AT_END || foot.gd_offset == 0 {
        return Err(mismatch("footer", "gdOffset", "the grain directory's sector", format!("{:#x}", foot.gd_offset)));
    }
    Ok(())
}

/// The embedded descriptor: `createType="streamOptimized"` and one extent line
/// `RW <capacity> SPARSE "<file>"` whose sector count is the header's capacity. Returns the createType.
pub fn check_descriptor_text(text: &str, capacity_sectors: u64) -> Result<String, String> {
    let create_type = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("createType").map(|r| r.trim_start()).and_then(|r| r.strip_prefix('=')))
        .map(|v| v.trim().trim_matches('"').to_string())
        .ok_or("descriptor createType: expected \"streamOptimized\", found none")?;
    if create_type != "streamOptimized" {
        return Err(mismatch("descriptor", "createType", "\"streamOptimized\"", format!("{create_type:?}")));
    }
    let extents: Vec<&str> = text.lines().map(str::trim).filter(|l| ["RW ", "RDONLY ", "NOACCESS "].iter().any(|p| l.starts_with(p))).collect();
    let [extent] = extents.as_slice() else {
        return Err(mismatch("descriptor", "extent lines", 1, extents.len()));
    };
    let parts: Vec<&str> = extent.splitn(4, ' ').collect();
    let [access, sectors, kind, file] = parts.as_slice() else {
        return Err(mismatch("descriptor", "extent line", "RW <sectors> SPARSE \"<file>\"", format!("{extent:?}")));
    };
    if *access != "RW" {
        // qemu skips extent lines that are not RW
        return Err(mismatch("descriptor", "extent access", "RW", access));
    }
    if *kind != "SPARSE" {
        return Err(mismatch("descriptor", "extent type", "SPARSE", kind));
    }
    if file.len() < 3 || !file.starts_with('"') || !file.ends_with('"') {
        return Err(mismatch("descriptor", "extent file name", "a quoted name", file));
    }
    let n: u64 = sectors.parse().map_err(|_| mismatch("descriptor", "extent sector count", "a number", format!("{sectors:?}")))?;
    if n != capacity_sectors {
        return Err(mismatch("descriptor", "extent sector count", format!("{capacity_sectors} (the header's capacity)"), n));
    }
    Ok(create_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> (SparseHeader, [u8; 512]) {
        let h = SparseHeader::stream_optimized(2048, GD_AT_END);
        let b = h.to_bytes();
        (h, b)
    }

    #[test]
    fn the_writers_header_passes() {
        let (h, b) = good();
        check_header("header", &b, &h, 1000).unwrap();
        check_leading_gd(&h).unwrap();
        let foot = SparseHeader::stream_optimized(2048, 300);
        check_footer_agrees(&h, &foot).unwrap();
        check_descriptor_text(&descriptor_text(2048, "x.vmdk", 1, "lsilogic", 4), 2048).unwrap();
    }

    #[test]
    fn each_field_is_named_with_expected_and_found() {
        type Damage = fn(&mut SparseHeader);
        let cases: Vec<(Damage, &str)> = vec![
            (|h| h.version = 1, "header version: expected 3, found 1"),
            (|h| h.flags &= !FLAG_NEWLINE_TEST, "missing bits 0x1"),
            (|h| h.flags |= 1 << 1, "unexpected bits 0x2"),
            (|h| h.compress_algorithm = 0, "compressAlgorithm: expected 1 (deflate), found 0"),
            (|h| h.grain_sectors = 100, "grainSize: expected a power of two"),
            (|h| h.grain_sectors = 1 << 22, "qemu refuses more"),
            (|h| h.grain_sectors = 256, "grainSize: expected 128 sectors"),
            (|h| h.gtes_per_gt = 1024, "numGTEsPerGT: expected 512, found 1024"),
            (|h| h.capacity_sectors = 0, "capacity: expected at least 1 sector"),
            (|h| h.capacity_sectors = u64::MAX, "capacity: expected at most"),
            (|h| h.overhead_sectors = u64::MAX, "overHead"),
            (|h| h.descriptor_offset = u64::MAX, "descriptorOffset"),
            (|h| h.descriptor_sectors = u64::MAX, "descriptorOffset"),
        ];
        for (damage, want) in cases {
            let (mut h, _) = good();
            damage(&mut h);
            let e = check_header("header", &h.to_bytes(), &h, 1000).unwrap_err();
            assert!(e.contains(want), "{e} (wanted {want})");
        }
        let (h, mut b) = good();
        b[75] = b'\n';
        assert!(check_header("header", &b, &h, 1000).unwrap_err().contains("newline-detection bytes"));
        b[0] = b'X';
        assert!(check_header("header", &b, &h, 1000).unwrap_err().contains("magic"));
        assert!(check_leading_gd(&SparseHeader::stream_optimized(2048, 5)).unwrap_err().contains("gdOffset"));
    }

    #[test]
    fn the_footer_must_agree_with_the_header() {
        let (h, _) = good();
        let mut f = SparseHeader::stream_optimized(2048, 300);
        f.grain_sectors = 256;
        assert!(check_footer_agrees(&h, &f).unwrap_err().contains("footer grainSize: expected 128 (the header's), found 256"));
        let f = SparseHeader::stream_optimized(2048, GD_AT_END);
        assert!(check_footer_agrees(&h, &f).unwrap_err().contains("footer gdOffset"));
    }

    #[test]
    fn descriptor_text_checks() {
        let d = descriptor_text(2048, "x.vmdk", 1, "lsilogic", 4);
        assert!(check_descriptor_text(&d.replace("streamOptimized", "monolithicSparse"), 2048)
            .unwrap_err()
            .contains("createType: expected \"streamOptimized\", found \"monolithicSparse\""));
        assert!(check_descriptor_text(&d, 4096).unwrap_err().contains("extent sector count: expected 4096"));
        assert!(check_descriptor_text(&d.replace("RW 2048", "RDONLY 2048"), 2048).unwrap_err().contains("extent access"));
        assert!(check_descriptor_text(&d.replace("SPARSE", "FLAT"), 2048).unwrap_err().contains("extent type"));
        assert!(check_descriptor_text(&d.replace("RW 2048", "RW 99999999999999999999999"), 2048).unwrap_err().contains("a number"));
    }
}
