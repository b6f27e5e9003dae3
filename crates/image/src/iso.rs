//! Small ISO 9660 images made with xorriso (no mounts, no root): the seed media clouds hand a VM at
//! boot — NoCloud's `cidata`, OpenStack's config drive (`config-2`), vSphere's OVF environment.
use crate::proc::output;
use anyhow::{bail, Context, Result};
use std::path::{Component, Path};
use tokio::process::Command;

/// Writes `files` ((path inside the ISO, content)) under `staging` and makes an ISO with volume id
/// `label` (Rock Ridge + Joliet, so long names and lower case survive) at `out`.
pub async fn make(label: &str, files: &[(String, Vec<u8>)], staging: &Path, out: &Path) -> Result<()> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    std::fs::create_dir_all(staging)?;
    for (name, content) in files {
        let rel = Path::new(name);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            bail!("ISO member name {name:?} must be a relative path without ..");
        }
        let p = staging.join(rel);
        std::fs::create_dir_all(p.parent().expect("joined path has a parent"))?;
        crate::util::write_atomic(&p, content.as_ref())?;
    }
    let _ = std::fs::remove_file(out);
    output(Command::new("xorriso").args(["-as", "genisoimage", "-quiet", "-volid", label, "-joliet", "-rock", "-o"]).arg(out).arg(staging))
        .await
        .with_context(|| format!("creating the {label} ISO (package xorriso)"))?;
    Ok(())
}
