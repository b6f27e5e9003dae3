//! The build record (record.json next to each cached image): what went in, what came out, how long
//! each stage took. Collected from the guest before generalization.
use crate::guest::Guest;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BuildRecord {
    pub name: String,
    pub cache_key: String,
    pub base: Option<BaseRef>,
    pub mdxconf_version: String,
    pub pipeline_version: String,
    pub definition_file: String,
    pub definition_sha256: String,
    pub inputs: serde_json::Value,
    pub accel: String,
    pub accel_reason: String,
    /// unix seconds
    pub started_at: u64,
    pub finished_at: u64,
    pub running_kernel: String,
    /// every kernel with modules installed (/lib/modules/*)
    pub kernels: Vec<String>,
    pub os_release: BTreeMap<String, String>,
    /// package -> version (dpkg-query)
    pub packages: BTreeMap<String, String>,
    /// kernel -> `dkms status -k KERNEL` lines (empty when dkms is not installed)
    pub dkms: BTreeMap<String, Vec<String>>,
    pub roles: Vec<String>,
    pub provision: Option<serde_json::Value>,
    /// stage -> seconds, in order
    pub durations: Vec<(String, f64)>,
    pub outputs: BTreeMap<String, OutputRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseRef {
    pub name: String,
    pub cache_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputRecord {
    pub path: String,
    pub sha256: Option<String>,
    pub bytes: u64,
    pub status: String,
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Facts from the guest: kernels, packages, dkms per kernel, os-release.
pub async fn collect(g: &Guest, rec: &mut BuildRecord) -> Result<()> {
    rec.running_kernel = g.run("uname -r").await?.trim().to_string();
    rec.kernels = g.run("ls -1 /lib/modules 2>/dev/null || true").await?.lines().map(str::to_string).filter(|s| !s.is_empty()).collect();
    let pk = g.run("dpkg-query -W -f='${Package}\\t${Version}\\n' 2>/dev/null || true").await?;
    rec.packages = pk.lines().filter_map(|l| l.split_once('\t')).map(|(a, b)| (a.to_string(), b.to_string())).collect();
    for k in rec.kernels.clone() {
        let out = g.run(&format!("if command -v dkms >/dev/null 2>&1; then dkms status -k {} 2>&1; fi", crate::guest::shell_quote(&k))).await?;
        rec.dkms.insert(k, out.lines().map(str::to_string).filter(|s| !s.is_empty()).collect());
    }
    let osr = g.run("cat /etc/os-release 2>/dev/null || true").await?;
    rec.os_release = osr.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string())).collect();
    Ok(())
}
