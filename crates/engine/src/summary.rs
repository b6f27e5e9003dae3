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
    /// Stopped by SIGINT/SIGTERM before the playbook's end
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Hosts an interrupted run had not finished (neither failed nor unreachable): they go in the retry file
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unfinished: Vec<String>,
}

impl RunSummary {
    pub fn failed_hosts(&self) -> Vec<String> {
        self.hosts.iter().filter(|(_, s)| s.failed > 0 || s.unreachable > 0).map(|(h, _)| h.clone()).collect()
    }
    /// What `--limit @retry` should run again: failed, unreachable and unfinished hosts.
    pub fn retry_hosts(&self) -> Vec<String> {
        let mut out = self.failed_hosts();
        out.extend(self.unfinished.iter().filter(|h| !out.contains(h)).cloned().collect::<Vec<_>>());
        out
    }
    pub fn total_changed(&self) -> u32 {
        self.hosts.values().map(|s| s.changed).sum()
    }
}
