//! The build record (record.json next to each cached image): what went in, what came out, how long
//! each stage took. Collected from the guest before generalization.
use crate::guest::Guest;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct BuildRecord {
    pub name: String,
    /// 1, 2, 3 ... per image in this cache: one more than the highest before it (0: built before
    /// versions were recorded)
    #[serde(default)]
    pub version: u64,
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
    /// role directory name -> sha256 of its files (what `image diff` compares for role changes)
    #[serde(default)]
    pub role_sha256: BTreeMap<String, String>,
    pub provision: Option<serde_json::Value>,
    /// stage -> seconds, in order
    pub durations: Vec<(String, f64)>,
    pub outputs: BTreeMap<String, OutputRecord>,
    /// `--refresh` builds: the archive state the cache key is bound to
    #[serde(default)]
    pub upstream: Option<super::upstream::UpstreamState>,
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
    // one SSH round trip, sections separated by markers
    let script = r#"echo '@@uname'; uname -r
echo '@@kernels'; ls -1 /lib/modules 2>/dev/null
echo '@@packages'; dpkg-query -W -f='${Package}\t${Version}\n' 2>/dev/null
echo '@@os'; cat /etc/os-release 2>/dev/null
for k in $(ls -1 /lib/modules 2>/dev/null); do echo "@@dkms $k"; if command -v dkms >/dev/null 2>&1; then dkms status -k "$k" 2>&1; fi; done
true"#;
    let out = g.run(script).await?;
    let mut section = String::new();
    for line in out.lines() {
        if let Some(s) = line.strip_prefix("@@") {
            section = s.to_string();
            if let Some(k) = s.strip_prefix("dkms ") {
                rec.dkms.insert(k.to_string(), vec![]);
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        match section.as_str() {
            "uname" => rec.running_kernel = line.trim().to_string(),
            "kernels" => rec.kernels.push(line.trim().to_string()),
            "packages" => {
                if let Some((a, b)) = line.split_once('\t') {
                    rec.packages.insert(a.to_string(), b.to_string());
                }
            }
            "os" => {
                if let Some((k, v)) = line.split_once('=') {
                    rec.os_release.insert(k.to_string(), v.trim_matches('"').to_string());
                }
            }
            s if s.starts_with("dkms ") => rec.dkms.entry(s[5..].to_string()).or_default().push(line.to_string()),
            _ => {}
        }
    }
    Ok(())
}
