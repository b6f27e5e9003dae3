//! What the exporter reads: a virtual disk at any offset, and the input formats (a leaf both readers use).
use anyhow::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum InputFormat {
    Raw,
    Qcow2,
    /// qcow2 if the file starts with the qcow2 magic, raw otherwise
    Auto,
}

/// A virtual disk readable at any offset. `data_extents` lists where data may be (ascending, non-overlapping
/// `(offset, len)`); everything outside reads as zeros, so the exporter never touches it.
pub trait DiskImage: Send + Sync {
    fn virtual_size(&self) -> u64;
    fn data_extents(&self) -> Result<Vec<(u64, u64)>>;
    /// Fills `buf` with the disk content at `offset`; bytes past the virtual size read as zeros.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;
    fn format_name(&self) -> &'static str;
}
