//! Library entry point used by `mdxconf apply` and by image builds (provisioning).
//! INTERFACE STUB — implemented by the executor owner.
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub extra_vars: Map<String, Value>,
    pub check: bool,
    pub diff: bool,
    /// max hosts in flight (Ansible's forks), default 50
    pub forks: usize,
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Learn unknown SSH host keys (OpenSSH's accept-new); off by default.
    pub accept_new_host_keys: bool,
    /// Extra role search paths (besides <playbook dir>/roles and ./roles)
    pub roles_path: Vec<PathBuf>,
    /// Print human output to stderr/stdout (false for library use with quiet output)
    pub quiet: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { extra_vars: Map::new(), check: false, diff: false, forks: 50, limit: None, tags: vec![], skip_tags: vec![], accept_new_host_keys: false, roles_path: vec![], quiet: true }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub failed: u32,
    pub skipped: u32,
    pub unreachable: u32,
    pub rescued: u32,
    pub ignored: u32,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RunSummary {
    /// per host, in inventory order
    pub hosts: indexmap::IndexMap<String, HostStats>,
}

impl RunSummary {
    pub fn failed_hosts(&self) -> Vec<String> {
        self.hosts.iter().filter(|(_, s)| s.failed > 0 || s.unreachable > 0).map(|(h, _)| h.clone()).collect()
    }
    pub fn total_changed(&self) -> u32 {
        self.hosts.values().map(|s| s.changed).sum()
    }
}

/// Run a playbook against an inventory file. Validates all input (playbook, roles, templates syntax,
/// module names/args) before touching any host.
pub async fn apply_files(_playbook: &Path, _inventory: &Path, _opts: &ApplyOptions) -> anyhow::Result<RunSummary> { todo!() }
