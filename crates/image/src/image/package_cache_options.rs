//! What the package cache is asked (mode) and what it reports (traffic): leaf types, no logic.
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum PackageCacheMode {
    /// Use apt-cacher-ng when it is installed, else download directly (default)
    #[default]
    Auto,
    /// Require it: fail when it is not installed or another run holds the cache
    On,
    /// Every build downloads its packages directly
    Off,
}

/// What one run moved through the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Traffic {
    /// Bytes the cache fetched from the package archives (what this run downloaded)
    pub upstream_bytes: u64,
    /// Bytes the cache handed to mmdebstrap and the build VMs' apt
    pub served_bytes: u64,
    /// Files handed out
    pub requests: u64,
}

impl Traffic {
    /// One line for people: `packages: 12.3 MiB downloaded, 80.1 MiB served (85% from the cache)`.
    pub fn summary(&self) -> String {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        let saved = if self.served_bytes > 0 { 100.0 * (1.0 - (self.upstream_bytes.min(self.served_bytes) as f64 / self.served_bytes as f64)) } else { 0.0 };
        format!("packages: {:.1} MiB downloaded, {:.1} MiB served in {} files ({:.0}% from the cache)", mib(self.upstream_bytes), mib(self.served_bytes), self.requests, saved)
    }
}
