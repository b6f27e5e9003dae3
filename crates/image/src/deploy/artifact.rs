//! The exported file a deployment starts from, checked before anything boots: an OVA must pass
//! `ova verify` (manifest, OVF, every VMDK grain); a qcow2 must be one (qemu-img check). What the VM
//! gets comes from the artifact itself: the OVF's hardware and vApp options, the Glance description
//! written beside an `openstack` output.
use super::options::Cloud;
use crate::image::glance::GlanceImage;
use anyhow::{bail, Context, Result};
use mdxconf_ova::descriptor::OvfDescriptor;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum Artifact {
    Ova { path: PathBuf, ovf: OvfDescriptor, disk: mdxconf_ova::verify::Member },
    Qcow2 { path: PathBuf, virtual_size: u64, glance: Option<GlanceImage> },
}

fn magic(path: &Path) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 512];
    let mut n = 0;
    while n < buf.len() {
        let r = f.read(&mut buf[n..])?;
        if r == 0 {
            break;
        }
        n += r;
    }
    buf.truncate(n);
    Ok(buf)
}

/// The Glance description an `openstack` output writes beside its qcow2 (`X-openstack.qcow2` ->
/// `X-openstack.json`), if there is one.
pub fn glance_sidecar(qcow2: &Path) -> Option<PathBuf> {
    let stem = qcow2.file_stem()?.to_string_lossy().into_owned();
    let p = qcow2.with_file_name(format!("{stem}.json"));
    p.exists().then_some(p)
}

impl Artifact {
    pub fn open(path: &Path) -> Result<Artifact> {
        let head = magic(path)?;
        let p = path.display();
        if head.len() >= 263 && &head[257..262] == b"ustar" {
            let report = mdxconf_ova::verify::verify(path, true).with_context(|| format!("{p} fails `ova verify`; not booting it"))?;
            if let mdxconf_ova::verify::SchemaCheck::Skipped { .. } = report.schema {
                eprintln!("{p}: {}", report.schema);
            }
            let ovf_member = report.members.iter().find(|m| m.name.ends_with(".ovf")).with_context(|| format!("{p}: no .ovf member"))?;
            let f = std::fs::File::open(path)?;
            let mut text = vec![0u8; ovf_member.size as usize];
            std::os::unix::fs::FileExt::read_exact_at(&f, &mut text, ovf_member.offset)?;
            let ovf = mdxconf_ova::descriptor::parse(&String::from_utf8_lossy(&text)).with_context(|| format!("{p}: reading the OVF descriptor"))?;
            let disk = report.members.iter().find(|m| m.name.ends_with(".vmdk")).cloned().with_context(|| format!("{p}: no disk in the OVA"))?;
            return Ok(Artifact::Ova { path: path.to_path_buf(), ovf, disk });
        }
        if head.starts_with(b"QFI\xfb") {
            let out = std::process::Command::new("qemu-img").args(["check", "-q"]).arg(path).output().context("running qemu-img check")?;
            if !out.status.success() {
                bail!("{p} fails `qemu-img check`; not booting it: {}", String::from_utf8_lossy(&out.stderr).trim());
            }
            let info = std::process::Command::new("qemu-img").args(["info", "--output=json"]).arg(path).output().context("running qemu-img info")?;
            let v: serde_json::Value = serde_json::from_slice(&info.stdout).with_context(|| format!("qemu-img info {p}"))?;
            if v.get("backing-filename").is_some() {
                bail!("{p} has a backing file: a cloud image must be standalone");
            }
            let virtual_size = v["virtual-size"].as_u64().with_context(|| format!("qemu-img info {p}: no virtual size"))?;
            let glance = match glance_sidecar(path) {
                Some(j) => Some(serde_json::from_slice(&std::fs::read(&j)?).with_context(|| format!("reading the Glance description {}", j.display()))?),
                None => None,
            };
            return Ok(Artifact::Qcow2 { path: path.to_path_buf(), virtual_size, glance });
        }
        bail!("{p} is neither an OVA (tar) nor a qcow2 image; `image test` boots what `image build` exports (NAME.ova, NAME-openstack.qcow2)")
    }

    pub fn path(&self) -> &Path {
        match self {
            Artifact::Ova { path, .. } | Artifact::Qcow2 { path, .. } => path,
        }
    }

    /// The cloud this kind of artifact is deployed on.
    pub fn cloud(&self) -> Cloud {
        match self {
            Artifact::Ova { .. } => Cloud::Vsphere,
            Artifact::Qcow2 { .. } => Cloud::Openstack,
        }
    }

    /// The disk size the image declares.
    pub fn disk_size(&self) -> u64 {
        match self {
            Artifact::Ova { ovf, .. } => ovf.disk_capacity,
            Artifact::Qcow2 { virtual_size, .. } => *virtual_size,
        }
    }
}
