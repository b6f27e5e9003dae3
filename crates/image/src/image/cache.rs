//! The staged image cache. Layout under the cache dir (default ~/.cache/mdxconf, or MDXCONF_CACHE,
//! or --cache-dir):
//!
//!   images/<name>/<key>/stage.qcow2   provisioned disk, not generalized (variants overlay this)
//!   images/<name>/<key>/image.qcow2   generalized disk (qcow2 overlay on stage.qcow2)
//!   images/<name>/<key>/boot/         kernel + initrd of the image (lab direct boot, debugging)
//!   images/<name>/<key>/record.json   build record (written last: its presence marks a complete build)
//!   images/<name>/<key>/build.log
//!   images/<name>/latest              key of the newest complete build
//!   keys/build_ed25519                key the build VMs accept (removed from images by generalize)
//!   iso/<sha256>.iso                  verified installer ISOs
//!
//! The key hashes every input of the build, so an unchanged definition is never rebuilt and a changed
//! one never reuses a stale disk.
use super::definition::{Definition, Source};
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bump when the build steps change in a way that changes the produced disk.
pub const PIPELINE_VERSION: &str = "image-pipeline-3";

pub fn default_cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("MDXCONF_CACHE") {
        return d.into();
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    PathBuf::from(home).join(".cache").join("mdxconf")
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub root: PathBuf,
}

impl Cache {
    pub fn new(root: Option<PathBuf>) -> Cache {
        let root = root.unwrap_or_else(default_cache_dir);
        // absolute, because qcow2 overlays store their backing file's path
        let _ = std::fs::create_dir_all(&root);
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Cache { root }
    }
    pub fn entry(&self, name: &str, key: &str) -> Entry {
        Entry { dir: self.root.join("images").join(name).join(key) }
    }
    pub fn build_key_path(&self) -> PathBuf {
        self.root.join("keys").join("build_ed25519")
    }
    pub fn iso_path(&self, sha256: &str) -> PathBuf {
        self.root.join("iso").join(format!("{}.iso", sha256.to_ascii_lowercase()))
    }
    /// The newest complete build of `name`.
    pub fn latest(&self, name: &str) -> Option<Entry> {
        let key = std::fs::read_to_string(self.root.join("images").join(name).join("latest")).ok()?;
        let e = self.entry(name, key.trim());
        e.is_complete().then_some(e)
    }
    pub fn set_latest(&self, name: &str, key: &str) -> Result<()> {
        crate::util::write_atomic(&self.root.join("images").join(name).join("latest"), key.as_bytes())
    }
    /// Every complete build: (name, entry), sorted by name.
    pub fn list(&self) -> Vec<(String, Entry)> {
        let mut out = vec![];
        let Ok(names) = std::fs::read_dir(self.root.join("images")) else { return out };
        for n in names.flatten() {
            let name = n.file_name().to_string_lossy().into_owned();
            let Ok(keys) = std::fs::read_dir(n.path()) else { continue };
            for k in keys.flatten() {
                let e = Entry { dir: k.path() };
                if k.path().is_dir() && e.is_complete() {
                    out.push((name.clone(), e));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.dir.cmp(&b.1.dir)));
        out
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
}

impl Entry {
    pub fn stage(&self) -> PathBuf {
        self.dir.join("stage.qcow2")
    }
    pub fn image(&self) -> PathBuf {
        self.dir.join("image.qcow2")
    }
    pub fn record(&self) -> PathBuf {
        self.dir.join("record.json")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("build.log")
    }
    pub fn boot_dir(&self) -> PathBuf {
        self.dir.join("boot")
    }
    pub fn key(&self) -> String {
        self.dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
    }
    pub fn is_complete(&self) -> bool {
        self.record().exists() && self.image().exists() && self.stage().exists()
    }
}

fn hash_dir(h: &mut Sha256, dir: &Path) {
    let mut entries: Vec<PathBuf> = walk(dir);
    entries.sort();
    for p in entries {
        h.update(p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(&p).unwrap_or_default());
        h.update([0]);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Cache key of a definition: hash of pipeline version, mdxconf version, the definition text, the
/// installer inputs (ISO sha256, netboot kernel/initrd, served files), the roles' files, and the
/// base's key for overlays.
pub fn compute_key(def: &Definition, base_key: Option<&str>, role_dirs: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    h.update(PIPELINE_VERSION.as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(def.text.as_bytes());
    if let Some(b) = base_key {
        h.update(b"base:");
        h.update(b.as_bytes());
    }
    match &def.source {
        Some(Source::Installer(i)) => {
            if let Some(iso) = &i.iso {
                h.update(iso.sha256.to_ascii_lowercase().as_bytes());
            }
            if let Some(nb) = &i.netboot {
                if let Some((k, initrd)) = super::installer::netboot_files(nb) {
                    h.update(std::fs::read(k).unwrap_or_default());
                    h.update(std::fs::read(initrd).unwrap_or_default());
                }
            }
            for f in i.http_files.values() {
                h.update(std::fs::read(def.dir().join(f)).unwrap_or_default());
            }
        }
        Some(Source::Rootfs(r)) => {
            // the package list is in the definition text; the mirror snapshot is not pinned (Debian
            // point releases change packages): use --force to pick up updates.
            h.update(r.packages.join(",").as_bytes());
        }
        None => {}
    }
    for d in role_dirs {
        h.update(d.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
        hash_dir(&mut h, d);
    }
    hex::encode(h.finalize())[..16].to_string()
}
