//! What changed between two versions of a template (a leaf: types and their printing).
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct VersionRef {
    pub version: u64,
    pub key: String,
    pub finished_at: u64,
    pub kernel: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Changed {
    pub name: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    pub image: String,
    pub from: VersionRef,
    pub to: VersionRef,
    /// package -> version
    pub packages_added: BTreeMap<String, String>,
    pub packages_removed: BTreeMap<String, String>,
    pub packages_upgraded: Vec<Changed>,
    pub kernels_added: Vec<String>,
    pub kernels_removed: Vec<String>,
    /// kernel -> (`dkms status` lines before, after), only kernels whose lines differ
    pub dkms: BTreeMap<String, (Vec<String>, Vec<String>)>,
    /// top-level keys of the definition whose value differs
    pub definition_changes: Vec<String>,
    pub roles_added: Vec<String>,
    pub roles_removed: Vec<String>,
    /// roles whose files differ
    pub roles_changed: Vec<String>,
    /// the base build moved (base name, from key, to key)
    pub base: Option<Changed>,
}

impl VersionDiff {
    pub fn is_empty(&self) -> bool {
        self.packages_added.is_empty()
            && self.packages_removed.is_empty()
            && self.packages_upgraded.is_empty()
            && self.kernels_added.is_empty()
            && self.kernels_removed.is_empty()
            && self.dkms.is_empty()
            && self.definition_changes.is_empty()
            && self.roles_added.is_empty()
            && self.roles_removed.is_empty()
            && self.roles_changed.is_empty()
            && self.base.is_none()
    }

    /// One line: what a catalogue page shows as the last change.
    pub fn summary(&self) -> String {
        let mut parts = vec![];
        let n = |k: usize, what: &str| format!("{k} {what}{}", if k == 1 { "" } else { "s" });
        if !self.kernels_added.is_empty() {
            parts.push(format!("kernel {}", self.kernels_added.join(", ")));
        }
        if !self.packages_upgraded.is_empty() {
            parts.push(format!("{} upgraded", n(self.packages_upgraded.len(), "package")));
        }
        if !self.packages_added.is_empty() {
            parts.push(format!("{} added", n(self.packages_added.len(), "package")));
        }
        if !self.packages_removed.is_empty() {
            parts.push(format!("{} removed", n(self.packages_removed.len(), "package")));
        }
        if !self.definition_changes.is_empty() {
            parts.push(format!("definition: {}", self.definition_changes.join(", ")));
        }
        let roles: Vec<&String> = self.roles_added.iter().chain(&self.roles_changed).collect();
        if !roles.is_empty() || !self.roles_removed.is_empty() {
            parts.push(format!("roles: {}", roles.iter().map(|s| s.as_str()).chain(self.roles_removed.iter().map(|s| s.as_str())).collect::<Vec<_>>().join(", ")));
        }
        if !self.dkms.is_empty() {
            parts.push(format!("DKMS on {}", self.dkms.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
        if let Some(b) = &self.base {
            parts.push(format!("rebuilt on a new {}", b.name));
        }
        if parts.is_empty() {
            "no change".into()
        } else {
            parts.join("; ")
        }
    }

    /// The changelog a maintainer publishes.
    pub fn human(&self) -> String {
        let mut s = format!("{} v{} ({}) -> v{} ({})\n", self.image, self.from.version, self.from.key, self.to.version, self.to.key);
        if self.is_empty() {
            s += "  no change in packages, kernels, DKMS modules, definition or roles\n";
            return s;
        }
        for k in &self.kernels_added {
            s += &format!("  kernel added: {k}\n");
        }
        for k in &self.kernels_removed {
            s += &format!("  kernel removed: {k}\n");
        }
        for c in &self.packages_upgraded {
            s += &format!("  upgraded {} {} -> {}\n", c.name, c.from, c.to);
        }
        for (p, v) in &self.packages_added {
            s += &format!("  added {p} {v}\n");
        }
        for (p, v) in &self.packages_removed {
            s += &format!("  removed {p} {v}\n");
        }
        for (k, (a, b)) in &self.dkms {
            s += &format!("  DKMS on {k}: [{}] -> [{}]\n", a.join("; "), b.join("; "));
        }
        if !self.definition_changes.is_empty() {
            s += &format!("  definition changed: {}\n", self.definition_changes.join(", "));
        }
        for r in &self.roles_added {
            s += &format!("  role added: {r}\n");
        }
        for r in &self.roles_removed {
            s += &format!("  role removed: {r}\n");
        }
        for r in &self.roles_changed {
            s += &format!("  role changed: {r}\n");
        }
        if let Some(b) = &self.base {
            s += &format!("  base {} rebuilt: {} -> {}\n", b.name, b.from, b.to);
        }
        s
    }
}
