//! What a run reports per host (a leaf: the executor fills it, output and callers read it).

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
