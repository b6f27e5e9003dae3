//! The clouds a template's outputs are for, as a definition sets them: `vsphere:` (mdx I) and
//! `openstack:` (mdx II), and the guest OS they are told about (`os:`, inferred when absent).
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `vsphere:`: the oldest vSphere release the OVA must deploy on and the disk controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsphereSettings {
    /// e.g. "7.0", "7.0u3", "8.0u2"
    #[serde(default = "default_vsphere")]
    pub version: String,
    /// `pvscsi` or `nvme`
    #[serde(default = "default_controller")]
    pub controller: String,
    /// Override the guest OS id derived from `os` and `version`.
    #[serde(default)]
    pub guest_id: Option<String>,
}

fn default_vsphere() -> String {
    mdxconf_ova::vsphere::DEFAULT_VSPHERE.to_string()
}

fn default_controller() -> String {
    "pvscsi".into()
}

impl Default for VsphereSettings {
    fn default() -> Self {
        VsphereSettings { version: default_vsphere(), controller: default_controller(), guest_id: None }
    }
}

impl VsphereSettings {
    pub fn release(&self) -> anyhow::Result<mdxconf_ova::VsphereVersion> {
        mdxconf_ova::VsphereVersion::parse(&self.version)
    }
    pub fn controller(&self) -> anyhow::Result<mdxconf_ova::Controller> {
        match self.controller.as_str() {
            "pvscsi" => Ok(mdxconf_ova::Controller::Pvscsi),
            "nvme" => Ok(mdxconf_ova::Controller::Nvme),
            other => anyhow::bail!("vsphere.controller `{other}`: expected pvscsi or nvme"),
        }
    }
}

/// `openstack:`: how Nova should attach the image (Glance image properties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenstackSettings {
    /// hw_disk_bus: virtio, scsi, sata
    #[serde(default = "default_disk_bus")]
    pub disk_bus: String,
    /// hw_vif_model: virtio, e1000, ...
    #[serde(default = "default_vif")]
    pub vif_model: String,
    /// min_ram in MiB (default: the definition's `memory`)
    #[serde(default)]
    pub min_ram: Option<u32>,
    /// More Glance properties, added as they are (e.g. hw_rng_model: virtio).
    #[serde(default)]
    pub properties: Map<String, Value>,
}

fn default_disk_bus() -> String {
    "virtio".into()
}
fn default_vif() -> String {
    "virtio".into()
}

impl Default for OpenstackSettings {
    fn default() -> Self {
        OpenstackSettings { disk_bus: default_disk_bus(), vif_model: default_vif(), min_ram: None, properties: Map::new() }
    }
}

impl OpenstackSettings {
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !["virtio", "scsi", "sata", "ide"].contains(&self.disk_bus.as_str()) {
            out.push(format!("openstack.disk_bus `{}`: expected virtio, scsi, sata or ide", self.disk_bus));
        }
        if !["virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet"].contains(&self.vif_model.as_str()) {
            out.push(format!("openstack.vif_model `{}`: expected virtio, e1000, e1000e, rtl8139, ne2k_pci or pcnet", self.vif_model));
        }
        if self.min_ram == Some(0) {
            out.push("openstack.min_ram must be at least 1 MiB".into());
        }
        out
    }
}

/// The guest OS, as clouds name it: Glance's os_distro/os_version, and the basis of vSphere's guest id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsInfo {
    /// os_distro (libosinfo short ids): debian, ubuntu
    pub distro: String,
    /// e.g. "12", "22.04"
    pub version: String,
}

/// Debian and Ubuntu suites by codename.
const SUITES: &[(&str, &str, &str)] = &[
    ("bullseye", "debian", "11"),
    ("bookworm", "debian", "12"),
    ("trixie", "debian", "13"),
    ("focal", "ubuntu", "20.04"),
    ("jammy", "ubuntu", "22.04"),
    ("noble", "ubuntu", "24.04"),
];

impl OsInfo {
    pub fn from_suite(suite: &str) -> Option<OsInfo> {
        SUITES.iter().find(|(s, _, _)| *s == suite).map(|(_, d, v)| OsInfo { distro: d.to_string(), version: v.to_string() })
    }
    /// From an installer ISO's file name (`ubuntu-22.04.5-live-server-amd64.iso`) or a netboot name (`debian-12`).
    pub fn from_installer_name(name: &str) -> Option<OsInfo> {
        let file = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
        for distro in ["ubuntu", "debian"] {
            if let Some(rest) = file.strip_prefix(&format!("{distro}-")) {
                let ver: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                let parts: Vec<&str> = ver.split('.').filter(|p| !p.is_empty()).collect();
                let version = match (distro, parts.as_slice()) {
                    ("ubuntu", [a, b, ..]) => format!("{a}.{b}"),
                    ("debian", [a, ..]) => a.to_string(),
                    _ => continue,
                };
                return Some(OsInfo { distro: distro.into(), version });
            }
        }
        None
    }
    /// Debian's codename-free "12" and Ubuntu's "22.04" as one number for comparisons.
    pub fn version_number(&self) -> f64 {
        self.version.parse().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn os_is_inferred_from_suites_and_installer_names() {
        assert_eq!(OsInfo::from_suite("bookworm"), Some(OsInfo { distro: "debian".into(), version: "12".into() }));
        assert_eq!(OsInfo::from_suite("sid"), None);
        let u = OsInfo::from_installer_name("https://releases.ubuntu.com/22.04.5/ubuntu-22.04.5-live-server-amd64.iso").unwrap();
        assert_eq!((u.distro.as_str(), u.version.as_str()), ("ubuntu", "22.04"));
        assert_eq!(OsInfo::from_installer_name("debian-12").unwrap().version, "12");
        assert_eq!(OsInfo::from_installer_name("ubuntu-24.04-desktop-amd64.iso").unwrap().version, "24.04");
        assert_eq!(OsInfo::from_installer_name("installer.iso"), None);
        assert!(VsphereSettings::default().release().is_ok());
        assert!(VsphereSettings { controller: "ide".into(), ..Default::default() }.controller().is_err());
        assert_eq!(OpenstackSettings { disk_bus: "floppy".into(), ..Default::default() }.problems().len(), 1);
    }
}
