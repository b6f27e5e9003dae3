//! Outputs of a build: a standalone qcow2 (backing chain flattened), a raw disk, and an OVA for vSphere
//! through mdxconf_ova::export_ova. Written atomically; skipped when already produced from this cache key
//! (a `<file>.cache-key` stamp next to each output). Outputs are not part of the disk's cache key: a
//! definition whose outputs changed is a cache hit, and only the missing outputs are written here.
use super::cache::Entry;
use super::definition::{Definition, Output};
use super::record::{BuildRecord, OutputRecord};
use super::BuildOptions;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tokio::process::Command;

fn stamp(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.cache-key", path.display()))
}

fn up_to_date(path: &Path, key: &str) -> bool {
    path.exists() && std::fs::read_to_string(stamp(path)).map(|s| s.trim() == key).unwrap_or(false)
}

async fn convert(src: &Path, fmt: &str, dest: &Path) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.partial", dest.display()));
    let r = crate::proc::output(Command::new("qemu-img").args(["convert", "-O", fmt]).arg(src).arg(&tmp)).await;
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

/// vSphere guest id for the OVA descriptor.
pub fn vsphere_os_type(def: &Definition) -> &'static str {
    if def.name.starts_with("debian12") || def.name.starts_with("debian-12") {
        "debian12_64Guest"
    } else if def.name.starts_with("debian11") {
        "debian11_64Guest"
    } else {
        "ubuntu64Guest"
    }
}

pub async fn write(def: &Definition, entry: &Entry, rec: &mut BuildRecord, opts: &BuildOptions) -> Result<Vec<PathBuf>> {
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&def.name));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let key = entry.key();
    let mut written = vec![];
    let qcow2 = out_dir.join(format!("{}.qcow2", def.name));
    let needs_qcow2 = def.outputs.contains(&Output::Qcow2) || def.outputs.contains(&Output::Ova);
    if needs_qcow2 && !up_to_date(&qcow2, &key) {
        convert(&entry.image(), "qcow2", &qcow2).await?;
        std::fs::write(stamp(&qcow2), &key)?;
    }
    for o in &def.outputs {
        let (path, status) = match o {
            Output::Qcow2 => (qcow2.clone(), "written".to_string()),
            Output::Raw => {
                let p = out_dir.join(format!("{}.raw", def.name));
                if !up_to_date(&p, &key) {
                    convert(&entry.image(), "raw", &p).await?;
                    std::fs::write(stamp(&p), &key)?;
                }
                (p, "written".to_string())
            }
            Output::Ova => {
                let p = out_dir.join(format!("{}.ova", def.name));
                // the OVA's hardware section comes from the definition, not from the cached disk
                let ova_key = format!("{key} cpus={} memory={} firmware={:?} os={}", def.cpus, def.memory, def.firmware, vsphere_os_type(def));
                if !up_to_date(&p, &ova_key) {
                    let mut spec = mdxconf_ova::ExportSpec::new(qcow2.clone(), &def.name, p.clone());
                    spec.format = mdxconf_ova::InputFormat::Qcow2;
                    spec.vm.os_type = vsphere_os_type(def).into();
                    spec.vm.cpus = def.cpus;
                    spec.vm.memory_mib = def.memory as u64;
                    spec.vm.firmware = match def.firmware {
                        crate::qemu::Firmware::Bios => mdxconf_ova::Firmware::Bios,
                        crate::qemu::Firmware::Efi => mdxconf_ova::Firmware::Efi,
                    };
                    spec.progress = !opts.quiet;
                    tokio::task::spawn_blocking(move || mdxconf_ova::export_ova(&spec)).await?.context("OVA export")?;
                    std::fs::write(stamp(&p), &ova_key)?;
                }
                (p, "written".to_string())
            }
        };
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        rec.outputs.insert(format!("{o:?}").to_lowercase(), OutputRecord { path: path.display().to_string(), sha256: None, bytes, status });
        written.push(path);
    }
    Ok(written)
}
