//! streamOptimized VMDK (VMware Virtual Disk Format 5.0, "Hosted Sparse Extent" with compressed grains
//! and stream markers): on-disk structures shared by the writer and the reader.
pub mod fields;
pub mod reader;
#[cfg(test)]
mod robustness;
pub mod writer;

pub const SECTOR: u64 = 512;
/// Grain size in sectors: 128 sectors = 64 KiB, what VMware tools use for streamOptimized disks.
pub const GRAIN_SECTORS: u64 = 128;
pub const GRAIN_BYTES: u64 = GRAIN_SECTORS * SECTOR;
/// Grain table entries per grain table (512 entries * 64 KiB = 32 MiB covered per GT).
pub const GTES_PER_GT: u64 = 512;
/// A grain table occupies 512 * 4 bytes = 4 sectors.
pub const GT_SECTORS: u64 = GTES_PER_GT * 4 / SECTOR;
/// Sectors reserved for the embedded descriptor (sector 1 onwards).
pub const DESCRIPTOR_SECTORS: u64 = 20;
/// First grain starts here; 128 sectors like VMware's own streamOptimized files.
pub const OVERHEAD_SECTORS: u64 = 128;
/// "KDMV" read as a little-endian u32.
pub const MAGIC: u32 = 0x564d_444b;
pub const VERSION: u32 = 3;
pub const FLAG_NEWLINE_TEST: u32 = 1 << 0;
pub const FLAG_COMPRESSED: u32 = 1 << 16;
pub const FLAG_MARKERS: u32 = 1 << 17;
pub const COMPRESS_DEFLATE: u16 = 1;
/// gdOffset value in the leading header meaning "the grain directory location is in the footer".
pub const GD_AT_END: u64 = u64::MAX;

pub const MARKER_EOS: u32 = 0;
pub const MARKER_GT: u32 = 1;
pub const MARKER_GD: u32 = 2;
pub const MARKER_FOOTER: u32 = 3;

/// The 512-byte SparseExtentHeader (little-endian, packed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseHeader {
    pub version: u32,
    pub flags: u32,
    pub capacity_sectors: u64,
    pub grain_sectors: u64,
    pub descriptor_offset: u64,
    pub descriptor_sectors: u64,
    pub gtes_per_gt: u32,
    pub rgd_offset: u64,
    pub gd_offset: u64,
    pub overhead_sectors: u64,
    pub unclean_shutdown: bool,
    pub compress_algorithm: u16,
}

impl SparseHeader {
    pub fn stream_optimized(capacity_sectors: u64, gd_offset: u64) -> Self {
        SparseHeader {
            version: VERSION,
            flags: FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS,
            capacity_sectors,
            grain_sectors: GRAIN_SECTORS,
            descriptor_offset: 1,
            descriptor_sectors: DESCRIPTOR_SECTORS,
            gtes_per_gt: GTES_PER_GT as u32,
            rgd_offset: 0,
            gd_offset,
            overhead_sectors: OVERHEAD_SECTORS,
            unclean_shutdown: false,
            compress_algorithm: COMPRESS_DEFLATE,
        }
    }

    pub fn to_bytes(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.version.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..20].copy_from_slice(&self.capacity_sectors.to_le_bytes());
        b[20..28].copy_from_slice(&self.grain_sectors.to_le_bytes());
        b[28..36].copy_from_slice(&self.descriptor_offset.to_le_bytes());
        b[36..44].copy_from_slice(&self.descriptor_sectors.to_le_bytes());
        b[44..48].copy_from_slice(&self.gtes_per_gt.to_le_bytes());
        b[48..56].copy_from_slice(&self.rgd_offset.to_le_bytes());
        b[56..64].copy_from_slice(&self.gd_offset.to_le_bytes());
        b[64..72].copy_from_slice(&self.overhead_sectors.to_le_bytes());
        b[72] = self.unclean_shutdown as u8;
        // Newline-detection characters: a transfer that mangles line endings corrupts these.
        b[73] = b'\n';
        b[74] = b' ';
        b[75] = b'\r';
        b[76] = b'\n';
        b[77..79].copy_from_slice(&self.compress_algorithm.to_le_bytes());
        b
    }

    /// Decodes the fields; what they must be is checked by [`fields::check_header`].
    pub fn parse(b: &[u8]) -> Result<Self, String> {
        if b.len() < 512 {
            return Err("header shorter than 512 bytes".into());
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let h = SparseHeader {
            version: u32_at(4),
            flags: u32_at(8),
            capacity_sectors: u64_at(12),
            grain_sectors: u64_at(20),
            descriptor_offset: u64_at(28),
            descriptor_sectors: u64_at(36),
            gtes_per_gt: u32_at(44),
            rgd_offset: u64_at(48),
            gd_offset: u64_at(56),
            overhead_sectors: u64_at(64),
            unclean_shutdown: b[72] != 0,
            compress_algorithm: u16::from_le_bytes([b[77], b[78]]),
        };
        Ok(h)
    }
}

/// A metadata marker sector: numSectors, size (0), type, padding.
pub fn metadata_marker(num_sectors: u64, marker_type: u32) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[0..8].copy_from_slice(&num_sectors.to_le_bytes());
    b[12..16].copy_from_slice(&marker_type.to_le_bytes());
    b
}

/// Number of grain tables needed for a disk of `capacity_sectors`.
pub fn gt_count(capacity_sectors: u64) -> u64 {
    let grains = capacity_sectors.div_ceil(GRAIN_SECTORS);
    grains.div_ceil(GTES_PER_GT)
}

/// Sectors used by the grain directory (4 bytes per GT, padded to a sector).
pub fn gd_sectors(capacity_sectors: u64) -> u64 {
    (gt_count(capacity_sectors) * 4).div_ceil(SECTOR)
}

/// The embedded descriptor text. `cid` makes it deterministic per export (no random CID).
pub fn descriptor_text(capacity_sectors: u64, file_name: &str, cid: u32, adapter: &str, hw_version: u32) -> String {
    // Legacy geometry fields: vSphere still reads them; 255 heads * 63 sectors is the usual translation.
    let cylinders = (capacity_sectors / (255 * 63)).clamp(1, 65535);
    format!(
        "# Disk DescriptorFile\n\
version=1\n\
CID={cid:08x}\n\
parentCID=ffffffff\n\
createType=\"streamOptimized\"\n\
\n\
# Extent description\n\
RW {capacity_sectors} SPARSE \"{file_name}\"\n\
\n\
# The Disk Data Base\n\
#DDB\n\
\n\
ddb.adapterType = \"{adapter}\"\n\
ddb.geometry.cylinders = \"{cylinders}\"\n\
ddb.geometry.heads = \"255\"\n\
ddb.geometry.sectors = \"63\"\n\
ddb.longContentID = \"{cid:08x}{cid:08x}{cid:08x}{cid:08x}\"\n\
ddb.virtualHWVersion = \"{hw_version}\"\n"
    )
}
