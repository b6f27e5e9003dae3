//! Outputs of a build: a standalone qcow2 (backing chain flattened), a raw disk, an OVA for vSphere
//! (mdx I) through mdxconf_ova::export_ova, and the OpenStack (mdx II) image: a compressed qcow2 plus
//! its Glance description (`<name>-openstack.json`). Written atomically; skipped when already produced
//! from the same inputs (a `<file>.cache-key` stamp next to each output). Outputs are not part of the
//! disk's cache key: a definition whose outputs changed is a cache hit, and only the missing outputs
//! are written here.
use super::cache::Entry;
use super::definition::{Definition, Output};
use super::glance::{self, GlanceInput};
use super::options::BuildOptions;
use super::record::{BuildRecord, OutputRecord};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tokio::process::Command;

fn stamp(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.cache-key", path.display()))
}

fn up_to_date(path: &Path, key: &str) -> bool {
    path.exists() && std::fs::read_to_string(stamp(path)).map(|s| s.trim() == key).unwrap_or(false)
}

async fn convert(src: &Path, fmt: &str, compress: bool, dest: &Path) -> Result<()> {
    let tmp = PathBuf::from(format!("{}.partial", dest.display()));
    let mut cmd = Command::new("qemu-img");
    cmd.args(["convert", "-O", fmt]);
    if compress {
        // zlib clusters (every qemu-img reads them); -W: compress clusters in parallel, out of order
        cmd.args(["-c", "-W"]);
    }
    let r = crate::proc::output(cmd.arg(src).arg(&tmp)).await;
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

/// The vSphere guest id for the image: `vsphere.guest_id`, else the one the target release knows for
/// its OS (Debian 12 on vSphere 7.0 is debian11_64Guest).
pub fn vsphere_guest_id(chain: &[Definition]) -> Result<String> {
    let def = chain.last().context("empty chain")?;
    if let Some(g) = &def.vsphere.guest_id {
        return Ok(g.clone());
    }
    let release = def.vsphere.release()?;
    Ok(match Definition::effective_os(chain) {
        Some(os) => release.guest_id_for(&os.distro, &os.version).to_string(),
        None => "otherLinux64Guest".into(),
    })
}

/// What `export_ova` is asked for, from the definition (hardware, target vSphere, vApp options).
pub fn ova_spec(chain: &[Definition], disk: &Path, output: &Path, version: &str) -> Result<mdxconf_ova::ExportSpec> {
    let def = chain.last().context("empty chain")?;
    let release = def.vsphere.release()?;
    let mut spec = mdxconf_ova::ExportSpec::new(disk.to_path_buf(), &def.name, output.to_path_buf());
    spec.format = mdxconf_ova::InputFormat::Qcow2;
    spec.vsphere = release;
    spec.vm.os_type = vsphere_guest_id(chain)?;
    spec.vm.vmx_version = release.max_hardware_version().unwrap_or(17);
    spec.vm.controller = def.vsphere.controller()?;
    spec.vm.cpus = def.cpus;
    spec.vm.memory_mib = def.memory as u64;
    spec.vm.firmware = match firmware(chain) {
        crate::qemu::Firmware::Bios => mdxconf_ova::Firmware::Bios,
        crate::qemu::Firmware::Efi => mdxconf_ova::Firmware::Efi,
    };
    // the vApp options are what cloud-init's OVF datasource reads; no cloud-init, no options
    if Definition::effective_cloud_init(chain).is_some_and(|c| c.datasources.contains(&super::cloud_init::Datasource::OVF)) {
        spec.vm.product = Some(mdxconf_ova::vapp::cloud_init_product(&def.name, version));
    }
    Ok(spec)
}

/// The firmware the disk boots with: the root base's (overlays cannot change the partition table).
pub fn firmware(chain: &[Definition]) -> crate::qemu::Firmware {
    chain.first().map(|d| d.firmware).unwrap_or_default()
}

pub async fn write(chain: &[Definition], entry: &Entry, rec: &mut BuildRecord, opts: &BuildOptions) -> Result<Vec<PathBuf>> {
    let def = chain.last().context("empty chain")?;
    let out_dir = opts.output_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&def.name));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let key = entry.key();
    let mut written = vec![];
    let qcow2 = out_dir.join(format!("{}.qcow2", def.name));
    let needs_qcow2 = def.outputs.iter().any(|o| matches!(o, Output::Qcow2 | Output::Ova));
    if needs_qcow2 && !up_to_date(&qcow2, &key) {
        convert(&entry.image(), "qcow2", false, &qcow2).await?;
        crate::util::write_atomic(&stamp(&qcow2), key.as_bytes())?;
    }
    for o in &def.outputs {
        let (path, extra) = match o {
            Output::Qcow2 => (qcow2.clone(), None),
            Output::Raw => {
                let p = out_dir.join(format!("{}.raw", def.name));
                if !up_to_date(&p, &key) {
                    convert(&entry.image(), "raw", false, &p).await?;
                    crate::util::write_atomic(&stamp(&p), key.as_bytes())?;
                }
                (p, None)
            }
            Output::Ova => {
                let p = out_dir.join(format!("{}.ova", def.name));
                let spec = ova_spec(chain, &qcow2, &p, &key)?;
                // the OVA's hardware section comes from the definition, not from the cached disk
                let ova_key = format!(
                    "{key} cpus={} memory={} firmware={:?} os={} vmx={} controller={:?} vapp={}",
                    spec.vm.cpus,
                    spec.vm.memory_mib,
                    spec.vm.firmware,
                    spec.vm.os_type,
                    spec.vm.vmx_version,
                    spec.vm.controller,
                    spec.vm.product.is_some()
                );
                if !up_to_date(&p, &ova_key) {
                    let mut spec = spec;
                    spec.progress = !opts.quiet;
                    tokio::task::spawn_blocking(move || mdxconf_ova::export_ova(&spec)).await?.context("OVA export")?;
                    crate::util::write_atomic(&stamp(&p), ova_key.as_bytes())?;
                }
                (p, None)
            }
            Output::Openstack => {
                let p = out_dir.join(format!("{}-openstack.qcow2", def.name));
                let desc_path = out_dir.join(format!("{}-openstack.json", def.name));
                if !up_to_date(&p, &key) {
                    convert(&entry.image(), "qcow2", true, &p).await?;
                    crate::util::write_atomic(&stamp(&p), key.as_bytes())?;
                }
                let file_name = p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let sha256 = crate::util::sha256_file(&p)?;
                let os = Definition::effective_os(chain);
                let input = GlanceInput {
                    def,
                    os: os.as_ref(),
                    firmware: firmware(chain),
                    file_name: &file_name,
                    sha256,
                    size: std::fs::metadata(&p)?.len(),
                    virtual_size: crate::util::qcow2_virtual_size(&p).await?,
                    guest_agent: Definition::effective_cloud_init(chain).is_some(),
                };
                let desc = glance::describe(&input);
                crate::util::write_atomic(&desc_path, (serde_json::to_string_pretty(&desc)? + "\n").as_bytes())?;
                // published beside the image, like it
                std::fs::set_permissions(&desc_path, std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
                (p, Some(desc_path))
            }
        };
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        rec.outputs.insert(format!("{o:?}").to_lowercase(), OutputRecord { path: path.display().to_string(), sha256: None, bytes, status: "written".into() });
        written.push(path);
        written.extend(extra);
    }
    Ok(written)
}
