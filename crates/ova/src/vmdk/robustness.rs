//! The reader on damaged streams: every metadata sector of a small VMDK from the writer overwritten, one
//! 8-byte field at a time, with values that overflow or point far away (u64::MAX, u32::MAX, 0, the file
//! size); each must give Ok or an error quickly, never a panic (debug builds check every overflow), an
//! endless walk or an allocation beyond the file. (Structure only: inflating in a debug build is slow, and
//! the grain data path is covered by the integration tests.)
use super::reader::{check, Region};
use super::writer::{compress_grain, StreamOptimizedWriter};
use super::*;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

fn small_vmdk() -> Vec<u8> {
    let capacity_sectors = 48 * 2048; // 48 MiB: two grain tables
    let mut w = StreamOptimizedWriter::new(Vec::new(), capacity_sectors, &descriptor_text(capacity_sectors, "t.vmdk", 7, "lsilogic", 4)).unwrap();
    let mut c = Vec::new();
    for g in [0u64, 1, 600] {
        let data: Vec<u8> = (0..GRAIN_BYTES).map(|i| (i ^ g).wrapping_mul(31) as u8).collect();
        compress_grain(&data, 1, &mut c).unwrap();
        w.write_grain(g, &c).unwrap();
    }
    w.finish().unwrap().0
}

#[test]
fn no_field_value_panics_or_hangs() {
    let good = small_vmdk();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.vmdk");
    std::fs::File::create(&path).unwrap().write_all(&good).unwrap();
    let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    let len = good.len() as u64;
    let region = Region { file: &f, offset: 0, len };
    check(&region, true).unwrap();
    // the header, the descriptor's start, the first grain marker, and every sector after the last grain
    // (GT markers, GTs, GD marker, GD, footer marker, footer, end-of-stream marker)
    let tail = (good.len() / 512).saturating_sub(24) * 512;
    let at: Vec<usize> = (0..512).step_by(4).chain((512..1024).step_by(64)).chain([128 * 512, 128 * 512 + 8]).chain((tail..good.len()).step_by(4)).collect();
    let values: [&[u8]; 5] = [&u64::MAX.to_le_bytes(), &u32::MAX.to_le_bytes(), &[0u8; 8], &len.to_le_bytes(), &(len / 512).to_le_bytes()];
    let mut runs = 0;
    for &pos in &at {
        for v in values.iter().filter(|v| pos + v.len() <= good.len()) {
            f.write_all_at(v, pos as u64).unwrap();
            let t = Instant::now();
            let _ = check(&region, false);
            assert!(t.elapsed() < Duration::from_secs(2), "value {v:02x?} at byte {pos}: {:?}", t.elapsed());
            f.write_all_at(&good[pos..pos + v.len()], pos as u64).unwrap();
            runs += 1;
        }
    }
    assert!(runs > 1000, "{runs}");
    check(&region, true).unwrap();
}
