//! `mdxconf image prune`: remove old cached builds. Never removed: an image's newest build (what
//! `latest` names), the `--keep` newest, the base build of anything kept (an overlay's disk reads its
//! base's file), and a build some process has a file of open (a lab or test VM running on it). Each
//! image is locked while it is pruned, so a build of it waits rather than lose its base.
use super::cache::{Cache, Entry};
pub use super::prune_report::{parse_age, PruneOptions, PruneReport, PrunedEntry};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

struct Build {
    name: String,
    entry: Entry,
    finished_at: u64,
    base: Option<(String, String)>,
}

/// Directories some process holds a file open in (from /proc/*/fd).
fn open_dirs(candidates: &[PathBuf]) -> HashSet<PathBuf> {
    let mut busy = HashSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return busy };
    for p in procs.flatten() {
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if let Some(d) = candidates.iter().find(|d| target.starts_with(d)) {
                    busy.insert(d.clone());
                }
            }
        }
    }
    busy
}

pub async fn prune(cache: &Cache, o: &PruneOptions) -> Result<PruneReport> {
    if o.keep.is_none() && o.older_than.is_none() {
        bail!("say what to prune: --keep N (newest builds kept per image) and/or --older-than AGE");
    }
    if o.keep == Some(0) {
        bail!("--keep 0 would remove every build, also the newest; the newest build of an image is always kept, so --keep must be at least 1");
    }
    let names: HashSet<&String> = o.names.iter().collect();
    // every complete build, newest first per image
    let mut by_name: BTreeMap<String, Vec<Build>> = BTreeMap::new();
    for (name, entry) in cache.list() {
        let rec = entry.read_record().ok();
        let finished_at = rec.as_ref().map(|r| r.finished_at).unwrap_or(0);
        let base = rec.and_then(|r| r.base).map(|b| (b.name, b.cache_key));
        by_name.entry(name.clone()).or_default().push(Build { name, entry, finished_at, base });
    }
    for v in by_name.values_mut() {
        v.sort_by(|a, b| b.finished_at.cmp(&a.finished_at).then(b.entry.key().cmp(&a.entry.key())));
    }
    let now = super::record::now();
    let all_dirs: Vec<PathBuf> = by_name.values().flatten().map(|b| b.entry.dir.clone()).collect();
    let busy = open_dirs(&all_dirs);
    // why each build stays; what has no reason goes
    let mut keep: BTreeMap<PathBuf, String> = BTreeMap::new();
    for (name, builds) in &by_name {
        let latest = cache.latest(name).map(|e| e.dir);
        for (rank, b) in builds.iter().enumerate() {
            let reason = if !names.is_empty() && !names.contains(name) {
                Some("not asked for".to_string())
            } else if latest.as_ref() == Some(&b.entry.dir) || (latest.is_none() && rank == 0) {
                Some("newest build".to_string())
            } else if o.keep.is_some_and(|k| rank < k) {
                Some(format!("among the {} newest", o.keep.unwrap_or(0)))
            } else if o.older_than.is_some_and(|age| now.saturating_sub(b.finished_at) < age.as_secs()) {
                Some("newer than --older-than".to_string())
            } else if busy.contains(&b.entry.dir) {
                Some("in use: a process has one of its files open".to_string())
            } else {
                None
            };
            if let Some(r) = reason {
                keep.insert(b.entry.dir.clone(), r);
            }
        }
    }
    // a kept build's base stays, and the base's base
    loop {
        let mut added = false;
        for b in by_name.values().flatten() {
            if !keep.contains_key(&b.entry.dir) {
                continue;
            }
            if let Some((bn, bk)) = &b.base {
                let dir = cache.entry(bn, bk).dir;
                if !keep.contains_key(&dir) && all_dirs.contains(&dir) {
                    keep.insert(dir, format!("base of kept {} {}", b.name, b.entry.key()));
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    let mut report = PruneReport { dry_run: o.dry_run, ..Default::default() };
    for (name, builds) in &by_name {
        let doomed: Vec<&Build> = builds.iter().filter(|b| !keep.contains_key(&b.entry.dir)).collect();
        let _lock = if doomed.is_empty() || o.dry_run { None } else { Some(cache.lock_name(name).await?) };
        for b in builds {
            let e = PrunedEntry {
                name: name.clone(),
                key: b.entry.key(),
                dir: b.entry.dir.clone(),
                bytes: b.entry.allocated_bytes(),
                finished_at: b.finished_at,
                kept_because: keep.get(&b.entry.dir).cloned(),
            };
            if e.kept_because.is_some() {
                report.kept.push(e);
                continue;
            }
            if !o.dry_run {
                // the record goes first: a half-removed entry is then no longer "complete"
                std::fs::remove_file(b.entry.record())?;
                crate::proc::remove_tree_safely(&b.entry.dir)?;
            }
            report.removed.push(e);
        }
    }
    Ok(report)
}
