//! Sequential streamOptimized writer. Grains arrive already compressed and in ascending order; the
//! writer lays out grain markers, emits each grain table (with its GT marker) once the stream has moved
//! past its 32 MiB range, and finishes with GD marker + GD, footer marker + footer, end-of-stream marker.
//! It never seeks, so the output can be hashed and streamed into a tar member as it is written.
use super::*;
use flate2::{Compress, Compression, FlushCompress, Status};
use std::io::{self, Write};

/// Deflate one 64 KiB grain in zlib format (RFC 1950), as the VMDK spec requires for compressAlgorithm 1.
pub fn compress_grain(data: &[u8], level: u32, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    out.reserve(data.len() + data.len() / 100 + 64);
    let mut c = Compress::new(Compression::new(level), true);
    loop {
        let consumed = c.total_in() as usize;
        let status = c.compress_vec(&data[consumed..], out, FlushCompress::Finish).map_err(|e| io::Error::other(format!("deflate: {e}")))?;
        match status {
            Status::StreamEnd => return Ok(()),
            _ => out.reserve(out.capacity().max(4096)),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct WriteStats {
    pub grains: u64,
    pub grain_tables: u64,
    pub bytes: u64,
}

pub struct StreamOptimizedWriter<W: Write> {
    out: W,
    capacity_sectors: u64,
    /// Next free sector in the output.
    pos: u64,
    gd: Vec<u32>,
    current_gt: Option<(u64, Vec<u32>)>,
    last_grain: Option<u64>,
    stats: WriteStats,
}

impl<W: Write> StreamOptimizedWriter<W> {
    /// Writes the leading header (gdOffset = GD_AT_END) and the embedded descriptor.
    pub fn new(mut out: W, capacity_sectors: u64, descriptor: &str) -> io::Result<Self> {
        if descriptor.len() as u64 > DESCRIPTOR_SECTORS * SECTOR {
            return Err(io::Error::other("VMDK descriptor does not fit its reserved sectors"));
        }
        let header = SparseHeader::stream_optimized(capacity_sectors, GD_AT_END);
        out.write_all(&header.to_bytes())?;
        let mut meta = vec![0u8; ((OVERHEAD_SECTORS - 1) * SECTOR) as usize];
        meta[..descriptor.len()].copy_from_slice(descriptor.as_bytes());
        out.write_all(&meta)?;
        let gt_total = gt_count(capacity_sectors) as usize;
        Ok(StreamOptimizedWriter {
            out,
            capacity_sectors,
            pos: OVERHEAD_SECTORS,
            gd: vec![0; gt_total],
            current_gt: None,
            last_grain: None,
            stats: WriteStats { bytes: OVERHEAD_SECTORS * SECTOR, ..Default::default() },
        })
    }

    fn write_sectors(&mut self, data: &[u8]) -> io::Result<()> {
        self.out.write_all(data)?;
        let pad = (SECTOR - data.len() as u64 % SECTOR) % SECTOR;
        if pad > 0 {
            self.out.write_all(&[0u8; SECTOR as usize][..pad as usize])?;
        }
        let written = data.len() as u64 + pad;
        self.pos += written / SECTOR;
        self.stats.bytes += written;
        Ok(())
    }

    /// Appends one compressed grain. `grain` is the grain index (virtual offset / 64 KiB).
    pub fn write_grain(&mut self, grain: u64, compressed: &[u8]) -> io::Result<()> {
        if grain * GRAIN_SECTORS >= self.capacity_sectors {
            return Err(io::Error::other(format!("grain {grain} beyond disk capacity")));
        }
        if self.last_grain.is_some_and(|g| g >= grain) {
            return Err(io::Error::other(format!("grain {grain} written out of order")));
        }
        self.last_grain = Some(grain);
        let gt_index = grain / GTES_PER_GT;
        if self.current_gt.as_ref().is_some_and(|(i, _)| *i != gt_index) {
            self.flush_gt()?;
        }
        if self.current_gt.is_none() {
            self.current_gt = Some((gt_index, vec![0; GTES_PER_GT as usize]));
        }
        let grain_sector = self.pos;
        let size = u32::try_from(compressed.len()).map_err(|_| io::Error::other("grain too large"))?;
        let mut buf = Vec::with_capacity(12 + compressed.len());
        buf.extend_from_slice(&(grain * GRAIN_SECTORS).to_le_bytes());
        buf.extend_from_slice(&size.to_le_bytes());
        buf.extend_from_slice(compressed);
        self.write_sectors(&buf)?;
        let sector32 = u32::try_from(grain_sector).map_err(|_| io::Error::other("VMDK exceeds 2 TiB of compressed data (32-bit sector offsets)"))?;
        let (_, gt) = self.current_gt.as_mut().unwrap();
        gt[(grain % GTES_PER_GT) as usize] = sector32;
        self.stats.grains += 1;
        Ok(())
    }

    fn flush_gt(&mut self) -> io::Result<()> {
        let Some((index, gt)) = self.current_gt.take() else { return Ok(()) };
        self.write_sectors(&metadata_marker(GT_SECTORS, MARKER_GT))?;
        self.gd[index as usize] = self.pos as u32;
        let bytes: Vec<u8> = gt.iter().flat_map(|e| e.to_le_bytes()).collect();
        self.write_sectors(&bytes)?;
        self.stats.grain_tables += 1;
        Ok(())
    }

    /// Writes the last grain table, the grain directory, the footer and the end-of-stream marker.
    pub fn finish(mut self) -> io::Result<(W, WriteStats)> {
        self.flush_gt()?;
        let gd_sectors = gd_sectors(self.capacity_sectors);
        self.write_sectors(&metadata_marker(gd_sectors, MARKER_GD))?;
        let gd_offset = self.pos;
        let bytes: Vec<u8> = self.gd.iter().flat_map(|e| e.to_le_bytes()).collect();
        self.write_sectors(&bytes)?;
        self.write_sectors(&metadata_marker(1, MARKER_FOOTER))?;
        let footer = SparseHeader::stream_optimized(self.capacity_sectors, gd_offset);
        self.write_sectors(&footer.to_bytes())?;
        self.write_sectors(&metadata_marker(0, MARKER_EOS))?;
        self.out.flush()?;
        Ok((self.out, self.stats))
    }
}
