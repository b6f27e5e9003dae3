//! Single pass over the input, parallel compression, in-order write.
//!
//! Worker threads claim jobs (runs of up to JOB_GRAINS grains that may hold data) from an atomic counter,
//! read them with pread, drop all-zero grains and deflate the rest. The calling thread receives results,
//! re-orders them and feeds the streamOptimized writer (whose output is hashed as it is written). A window
//! keeps workers at most WINDOW_PER_THREAD jobs per thread ahead of the writer so memory stays bounded.
use anyhow::{anyhow, Result};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use crate::disk::DiskImage;
use crate::vmdk::writer::{compress_grain, StreamOptimizedWriter, WriteStats};
use crate::vmdk::GRAIN_BYTES;

const JOB_GRAINS: usize = 16;
const WINDOW_PER_THREAD: usize = 8;

/// Grain indices that overlap any data extent, ascending.
pub fn candidate_grains(extents: &[(u64, u64)], capacity: u64) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for &(off, len) in extents {
        let end = (off + len).min(capacity);
        if off >= end {
            continue;
        }
        let first = off / GRAIN_BYTES;
        let last = (end - 1) / GRAIN_BYTES;
        let first = match out.last() {
            Some(&l) if l >= first => l + 1,
            _ => first,
        };
        out.extend(first..=last);
    }
    out
}

struct JobResult {
    index: usize,
    grains: Result<Vec<(u64, Vec<u8>)>>,
    input_bytes: u64,
}

pub struct PipelineOptions<'a> {
    pub threads: usize,
    pub level: u32,
    /// Called with the number of input bytes finished, in output order.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// Streams `disk` through the writer. Returns the writer's stats and the count of non-zero grains.
pub fn run<W: Write>(disk: &dyn DiskImage, grains: &[u64], mut writer: StreamOptimizedWriter<W>, opts: &PipelineOptions) -> Result<(W, WriteStats)> {
    let jobs: Vec<&[u64]> = grains.chunks(JOB_GRAINS).collect();
    let threads = opts.threads.max(1);
    let window = threads * WINDOW_PER_THREAD;
    let next_job = AtomicUsize::new(0);
    let written_upto = Mutex::new(0usize); // jobs fully written
    let advanced = Condvar::new();
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<JobResult>(window);

    std::thread::scope(|s| -> Result<(W, WriteStats)> {
        for _ in 0..threads {
            let tx = tx.clone();
            let (jobs, next_job, written_upto, advanced, abort) = (&jobs, &next_job, &written_upto, &advanced, &abort);
            s.spawn(move || {
                let mut buf = vec![0u8; GRAIN_BYTES as usize];
                loop {
                    let index = next_job.fetch_add(1, Ordering::Relaxed);
                    if index >= jobs.len() || abort.load(Ordering::Relaxed) {
                        return;
                    }
                    {
                        let mut w = written_upto.lock().unwrap();
                        while index >= *w + window && !abort.load(Ordering::Relaxed) {
                            w = advanced.wait(w).unwrap();
                        }
                    }
                    let grains = compress_job(disk, jobs[index], opts.level, &mut buf);
                    let input_bytes = jobs[index].len() as u64 * GRAIN_BYTES;
                    if tx.send(JobResult { index, grains, input_bytes }).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);

        let result = (|| -> Result<()> {
            let mut pending: BTreeMap<usize, JobResult> = BTreeMap::new();
            let mut next = 0usize;
            while next < jobs.len() {
                let r = rx.recv().map_err(|_| anyhow!("compression worker exited unexpectedly"))?;
                pending.insert(r.index, r);
                while let Some(r) = pending.remove(&next) {
                    for (grain, data) in r.grains? {
                        writer.write_grain(grain, &data)?;
                    }
                    (opts.progress)(r.input_bytes);
                    next += 1;
                    *written_upto.lock().unwrap() = next;
                    advanced.notify_all();
                }
            }
            Ok(())
        })();
        if result.is_err() {
            {
                // Under the lock so no worker can check `abort` and then miss the wake-up.
                let _w = written_upto.lock().unwrap();
                abort.store(true, Ordering::Relaxed);
            }
            advanced.notify_all();
            drop(rx); // unblocks senders
        }
        result?;
        Ok(writer.finish()?)
    })
}

fn compress_job(disk: &dyn DiskImage, grains: &[u64], level: u32, buf: &mut [u8]) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut out = Vec::with_capacity(grains.len());
    for &g in grains {
        disk.read_at(g * GRAIN_BYTES, buf)?;
        if is_zero(buf) {
            continue; // zero grains are left unallocated: they read back as zeros
        }
        let mut c = Vec::new();
        compress_grain(buf, level, &mut c)?;
        out.push((g, c));
    }
    Ok(out)
}

fn is_zero(buf: &[u8]) -> bool {
    let (pre, mid, post) = unsafe { buf.align_to::<u128>() };
    pre.iter().all(|&b| b == 0) && mid.iter().all(|&w| w == 0) && post.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_grains_merges_overlapping_extents() {
        let g = GRAIN_BYTES;
        let ext = [(0, 10), (100, g), (3 * g + 5, 2 * g), (5 * g, 1)];
        assert_eq!(candidate_grains(&ext, 100 * g), vec![0, 1, 3, 4, 5]);
        // Extents past the capacity are clipped.
        assert_eq!(candidate_grains(&[(g, 10 * g)], 3 * g), vec![1, 2]);
    }

    #[test]
    fn zero_detection() {
        let mut b = vec![0u8; 65536];
        assert!(is_zero(&b));
        b[65535] = 1;
        assert!(!is_zero(&b));
    }
}
