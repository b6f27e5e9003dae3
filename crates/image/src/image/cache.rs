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
//! The key hashes every input that changes the disk, so an unchanged definition is never rebuilt, a
//! changed one never reuses a stale disk, and a change that only concerns outputs (formats, the
//! description, the OVA's CPU/memory) reuses the cached disk and only writes the missing outputs.
use super::definition::{Definition, Source};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Bump when the build steps change in a way that changes the produced disk.
pub const PIPELINE_VERSION: &str = "image-pipeline-4";

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
        let _ = crate::util::private_dir(&root);
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Cache { root }
    }
    pub fn entry(&self, name: &str, key: &str) -> Entry {
        Entry { dir: self.root.join("images").join(name).join(key) }
    }
    pub fn build_key_path(&self) -> PathBuf {
        self.root.join("keys").join("build_ed25519")
    }
    /// The log of the last failed build of `name` with cache key `key` (its build directory is removed).
    pub fn failed_log_path(&self, name: &str, key: &str) -> PathBuf {
        self.root.join("logs").join(format!("{name}-{key}.failed.log"))
    }
    pub fn iso_path(&self, sha256: &str) -> PathBuf {
        self.root.join("iso").join(format!("{}.iso", sha256.to_ascii_lowercase()))
    }
    /// Exclusive right to build `name` in this cache, held until dropped: a second `mdxconf image build` of
    /// the same image waits here instead of deleting the first one's partial directory, then finds its
    /// result in the cache. A flock on the image's directory itself, so no lock file is left behind.
    pub async fn lock_name(&self, name: &str) -> Result<NameLock> {
        let dir = self.root.join("images").join(name);
        std::fs::create_dir_all(&dir)?;
        let f = std::fs::File::open(&dir)?;
        let mut told = false;
        loop {
            if crate::util::try_flock(&f).with_context(|| format!("locking {}", dir.display()))? {
                return Ok(NameLock { _dir: f });
            }
            if !told {
                eprintln!("{name}: another build of this image is running on {}; waiting for it", self.root.display());
                told = true;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    /// The newest complete build of `name`.
    pub fn latest(&self, name: &str) -> Option<Entry> {
        let key = std::fs::read_to_string(self.root.join("images").join(name).join("latest")).ok()?;
        let e = self.entry(name, key.trim());
        e.is_complete().then_some(e)
    }
    /// The build record of `latest`, if that build is complete and its record readable.
    pub fn latest_record(&self, name: &str) -> Option<super::record::BuildRecord> {
        self.latest(name)?.read_record().ok()
    }
    pub fn set_latest(&self, name: &str, key: &str) -> Result<()> {
        crate::util::write_atomic(&self.root.join("images").join(name).join("latest"), key.as_bytes())
    }
    /// The version the next build of `name` gets: one more than any complete build's.
    pub fn next_version(&self, name: &str) -> u64 {
        self.builds_of(name).iter().filter_map(|e| e.read_record().ok()).map(|r| r.version).max().unwrap_or(0) + 1
    }
    /// The complete builds of one image.
    pub fn builds_of(&self, name: &str) -> Vec<Entry> {
        self.list().into_iter().filter(|(n, _)| n == name).map(|(_, e)| e).collect()
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

/// See [`Cache::lock_name`].
pub struct NameLock {
    _dir: std::fs::File,
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
    /// The build record, parsed.
    pub fn read_record(&self) -> Result<super::record::BuildRecord> {
        use anyhow::Context;
        serde_json::from_slice(&std::fs::read(self.record())?).with_context(|| format!("reading the build record {}", self.record().display()))
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
    /// Allocated (not apparent) bytes of everything in the entry: its qcow2 files are sparse.
    pub fn allocated_bytes(&self) -> u64 {
        fn walk(d: &Path) -> u64 {
            let Ok(rd) = std::fs::read_dir(d) else { return 0 };
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => std::os::unix::fs::MetadataExt::blocks(&m) * 512,
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.dir)
    }
    pub fn is_complete(&self) -> bool {
        self.record().exists() && self.image().exists() && self.stage().exists()
    }
}

/// sha256 of a role directory's files (names and contents).
pub fn dir_digest(dir: &Path) -> String {
    let mut h = Sha256::new();
    hash_dir(&mut h, dir);
    hex::encode(h.finalize())
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

/// What of a definition goes into the key: only what changes the disk. Not hashed: `description`,
/// `outputs` (produced from the cached disk), `cpus`/`memory` (the build VM's size; the OVA's
/// hardware section is stamped separately, see outputs.rs), `ssh_timeout`, and how `base` is spelled
/// (the base's own key stands for it).
fn disk_inputs(def: &Definition) -> serde_json::Value {
    serde_json::json!({
        // rootfs images get their hostname from it
        "name": def.name,
        "source": def.source,
        "disk_size": super::definition::parse_size(&def.disk_size),
        "firmware": def.firmware,
        // the definition's roles and the cloud_init role with its settings
        "roles": def.provision_roles(),
        "vars": def.vars,
        "generalize": def.generalize,
    })
}

/// JSON with every object's keys sorted (serde_json keeps YAML order here: reordering keys in a
/// definition must not rebuild).
fn canonical(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Cache key of a definition: hash of pipeline version, mdxconf version, the definition's
/// disk-relevant fields (see `disk_inputs`), the installer inputs (ISO sha256, netboot kernel/initrd,
/// served files), the roles' files, and the base's key for overlays.
pub fn compute_key(def: &Definition, base_key: Option<&str>, role_dirs: &[PathBuf]) -> String {
    let mut h = Sha256::new();
    h.update(PIPELINE_VERSION.as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(canonical(&disk_inputs(def)).to_string().as_bytes());
    if let Some(b) = base_key {
        h.update(b"base:");
        h.update(b.as_bytes());
    }
    if let Some(Source::Installer(i)) = &def.source {
        // the ISO's sha256 is in `source`; the files it names are hashed by content
        if let Some(nb) = &i.netboot {
            if let Some((k, initrd)) = super::netboot::netboot_files(nb) {
                h.update(std::fs::read(k).unwrap_or_default());
                h.update(std::fs::read(initrd).unwrap_or_default());
            }
        }
        for f in i.http_files.values() {
            h.update(std::fs::read(def.dir().join(f)).unwrap_or_default());
        }
    }
    // rootfs: the package list is in `source`; the mirror snapshot is not pinned (Debian point
    // releases change packages): use --force to pick up updates.
    for d in role_dirs {
        h.update(d.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
        hash_dir(&mut h, d);
    }
    hex::encode(h.finalize())[..16].to_string()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;

    #[test]
    fn the_cache_and_its_logs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("cache");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = Cache::new(Some(root.clone()));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&c.root), 0o700, "an existing cache directory is tightened");
        let log = c.root.join("images/x/k.partial/build.log");
        crate::progress::BuildLog::create(&log, true).unwrap();
        assert_eq!(mode(&log), 0o600);
    }

    const BASE: &str = "name: t
description: first
source:
  rootfs:
    suite: bookworm
    mirror: http://deb.debian.org/debian
    packages: [sudo, less]
disk_size: 8G
cpus: 2
memory: 1024
roles:
  - role: r
    vars: {a: 1, b: two}
cloud_init: {user: mdxuser}
outputs: [qcow2]
ssh_timeout: 600
";

    fn key_of(text: &str, base: Option<&str>, roles: &[PathBuf]) -> String {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.yaml");
        std::fs::write(&p, text).unwrap();
        compute_key(&Definition::load(&p).unwrap(), base, roles)
    }

    #[test]
    fn fields_that_do_not_change_the_disk_keep_the_key() {
        let k = key_of(BASE, None, &[]);
        for (what, text) in [
            ("outputs", BASE.replace("outputs: [qcow2]", "outputs: [qcow2, raw, ova, openstack]")),
            ("the vSphere target", format!("{BASE}vsphere: {{version: '8.0u2', controller: nvme}}\nopenstack: {{min_ram: 2048}}\n")),
            ("description", BASE.replace("description: first", "description: second")),
            ("cpus/memory", BASE.replace("cpus: 2", "cpus: 4").replace("memory: 1024", "memory: 4096")),
            ("ssh_timeout", BASE.replace("ssh_timeout: 600", "ssh_timeout: 60")),
            ("comments", format!("# a comment\n{BASE}")),
            ("key order in vars", BASE.replace("{a: 1, b: two}", "{b: two, a: 1}")),
            ("same size spelled differently", BASE.replace("8G", "8192M")),
        ] {
            assert_eq!(key_of(&text, None, &[]), k, "{what} must not change the cache key");
        }
    }

    #[test]
    fn fields_that_change_the_disk_change_the_key() {
        let k = key_of(BASE, None, &[]);
        for (what, text) in [
            ("a package", BASE.replace("[sudo, less]", "[sudo, less, curl]")),
            ("the suite", BASE.replace("bookworm", "trixie")),
            ("disk size", BASE.replace("8G", "9G")),
            ("a role var", BASE.replace("a: 1", "a: 2")),
            ("the name (hostname)", BASE.replace("name: t", "name: u")),
            ("generalize steps", format!("{BASE}generalize: [machine_id]\n")),
            ("play vars", format!("{BASE}vars: {{x: 1}}\n")),
            ("the login user", BASE.replace("user: mdxuser", "user: researcher")),
            ("the datasources", BASE.replace("cloud_init: {user: mdxuser}", "cloud_init: {datasources: [OVF, None]}")),
            ("no cloud-init", BASE.replace("cloud_init: {user: mdxuser}\n", "")),
        ] {
            assert_ne!(key_of(&text, None, &[]), k, "{what} must change the cache key");
        }
        assert_ne!(key_of(BASE, Some("aaaa"), &[]), key_of(BASE, Some("bbbb"), &[]), "the base's key");
    }

    #[test]
    fn role_files_are_part_of_the_key() {
        let d = tempfile::tempdir().unwrap();
        let role = d.path().join("r");
        std::fs::create_dir_all(role.join("tasks")).unwrap();
        std::fs::write(role.join("tasks/main.yml"), "- debug: msg=one\n").unwrap();
        let k1 = key_of(BASE, None, std::slice::from_ref(&role));
        std::fs::write(role.join("tasks/main.yml"), "- debug: msg=two\n").unwrap();
        assert_ne!(key_of(BASE, None, std::slice::from_ref(&role)), k1);
    }
}
