//! `mdxconf image diff NAME [A] [B]`: the changelog between two versions of a template, read from
//! their build records (packages, kernels, DKMS per kernel, definition keys, roles, base build).
use super::cache::Cache;
pub use super::diff_report::{Changed, VersionDiff, VersionRef};
use super::record::BuildRecord;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, BTreeSet};

/// The builds of `name` with their records, oldest first (by version, then finish time).
pub fn versions(cache: &Cache, name: &str) -> Vec<BuildRecord> {
    let mut v: Vec<BuildRecord> = cache.builds_of(name).iter().filter_map(|e| e.read_record().ok()).collect();
    v.sort_by_key(|r| (r.version, r.finished_at));
    v
}

/// A version: `3`, `v3`, or a cache key (or a unique prefix of one).
fn pick<'a>(all: &'a [BuildRecord], name: &str, want: &str) -> Result<&'a BuildRecord> {
    let num = want.strip_prefix('v').unwrap_or(want).parse::<u64>().ok();
    let hits: Vec<&BuildRecord> = all.iter().filter(|r| num == Some(r.version) || r.cache_key.starts_with(want)).collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => bail!("{name} has no version `{want}`; it has: {}", all.iter().map(|r| format!("v{} ({})", r.version, r.cache_key)).collect::<Vec<_>>().join(", ")),
        _ => bail!("`{want}` names several builds of {name}: give more of the cache key"),
    }
}

pub fn diff(cache: &Cache, name: &str, a: Option<&str>, b: Option<&str>) -> Result<VersionDiff> {
    let all = versions(cache, name);
    if all.is_empty() {
        bail!("no builds of `{name}` in {}", cache.root.display());
    }
    let (from, to) = match (a, b) {
        (Some(a), Some(b)) => (pick(&all, name, a)?, pick(&all, name, b)?),
        (Some(a), None) => (pick(&all, name, a)?, all.last().expect("not empty")),
        (None, _) if all.len() >= 2 => (&all[all.len() - 2], &all[all.len() - 1]),
        (None, _) => bail!("{name} has one build (v{}); a diff needs two", all[0].version),
    };
    Ok(compare(from, to))
}

fn vref(r: &BuildRecord) -> VersionRef {
    VersionRef { version: r.version, key: r.cache_key.clone(), finished_at: r.finished_at, kernel: r.kernels.last().cloned().unwrap_or_else(|| r.running_kernel.clone()) }
}

/// What changed from `a` to `b`.
pub fn compare(a: &BuildRecord, b: &BuildRecord) -> VersionDiff {
    let mut d = VersionDiff {
        image: b.name.clone(),
        from: vref(a),
        to: vref(b),
        packages_added: BTreeMap::new(),
        packages_removed: BTreeMap::new(),
        packages_upgraded: vec![],
        kernels_added: b.kernels.iter().filter(|k| !a.kernels.contains(k)).cloned().collect(),
        kernels_removed: a.kernels.iter().filter(|k| !b.kernels.contains(k)).cloned().collect(),
        dkms: BTreeMap::new(),
        definition_changes: vec![],
        roles_added: b.roles.iter().filter(|r| !a.roles.contains(r)).cloned().collect(),
        roles_removed: a.roles.iter().filter(|r| !b.roles.contains(r)).cloned().collect(),
        roles_changed: b.role_sha256.iter().filter(|(r, h)| a.role_sha256.get(*r).is_some_and(|old| old != *h)).map(|(r, _)| r.clone()).collect(),
        base: None,
    };
    for (p, v) in &b.packages {
        match a.packages.get(p) {
            None => {
                d.packages_added.insert(p.clone(), v.clone());
            }
            Some(old) if old != v => d.packages_upgraded.push(Changed { name: p.clone(), from: old.clone(), to: v.clone() }),
            _ => {}
        }
    }
    for (p, v) in &a.packages {
        if !b.packages.contains_key(p) {
            d.packages_removed.insert(p.clone(), v.clone());
        }
    }
    let kernels: BTreeSet<&String> = a.dkms.keys().chain(b.dkms.keys()).collect();
    for k in kernels {
        let (x, y) = (a.dkms.get(k).cloned().unwrap_or_default(), b.dkms.get(k).cloned().unwrap_or_default());
        if x != y {
            d.dkms.insert(k.clone(), (x, y));
        }
    }
    if a.definition_sha256 != b.definition_sha256 {
        let (ia, ib) = (a.inputs.as_object().cloned().unwrap_or_default(), b.inputs.as_object().cloned().unwrap_or_default());
        let keys: BTreeSet<&String> = ia.keys().chain(ib.keys()).collect();
        d.definition_changes = keys.into_iter().filter(|k| ia.get(*k) != ib.get(*k)).cloned().collect();
        if d.definition_changes.is_empty() {
            // only comments or layout changed
            d.definition_changes.push("text (comments or layout)".into());
        }
    }
    if let (Some(x), Some(y)) = (&a.base, &b.base) {
        if x.cache_key != y.cache_key || x.name != y.name {
            d.base = Some(Changed { name: y.name.clone(), from: x.cache_key.clone(), to: y.cache_key.clone() });
        }
    }
    d
}
