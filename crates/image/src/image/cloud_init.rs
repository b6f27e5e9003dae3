//! The `cloud_init:` section of a definition: what makes a template deployable. cloud-init reads the
//! cloud's metadata at first boot (the datasources below, in order), creates the default login user
//! with the metadata's SSH keys, sets the hostname, configures the network and grows the root disk.
//! The build adds the `cloud_init` role (roles/cloud_init) with these settings as its last role, and
//! the outputs check that the guest can be set up on the cloud they are for.
use super::output::Output;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// cloud-init datasources, as cloud-init spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Datasource {
    /// vSphere guestinfo (VMware Tools)
    VMware,
    /// vSphere vApp options: ovf-env.xml on an ISO or in guestinfo.ovfEnv
    OVF,
    /// OpenStack config drive (ISO labelled config-2)
    ConfigDrive,
    /// OpenStack metadata service (169.254.169.254)
    OpenStack,
    /// a seed ISO labelled cidata, or seed files (local tests)
    NoCloud,
    /// no metadata: boot with defaults
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudInit {
    /// The default login user cloud-init creates.
    #[serde(default = "default_user")]
    pub user: String,
    #[serde(default = "default_datasources")]
    pub datasources: Vec<Datasource>,
}

fn default_user() -> String {
    "mdxuser".into()
}

pub fn default_datasources() -> Vec<Datasource> {
    use Datasource::*;
    vec![VMware, OVF, ConfigDrive, OpenStack, NoCloud, None]
}

impl Default for CloudInit {
    fn default() -> Self {
        CloudInit { user: default_user(), datasources: default_datasources() }
    }
}

/// Packages a rootfs (mmdebstrap) image gets at once, outside the emulated guest: the role then
/// finds them installed. Keep in line with roles/cloud_init/vars/Debian.yml.
pub const ROOTFS_PACKAGES: &[&str] = &["cloud-init", "cloud-guest-utils", "open-vm-tools", "qemu-guest-agent"];

/// The name of the role the build appends.
pub const ROLE: &str = "cloud_init";

impl CloudInit {
    /// Variables for the cloud_init role.
    pub fn role_vars(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("cloud_init_user".into(), json!(self.user));
        m.insert("cloud_init_datasources".into(), json!(self.datasources));
        m
    }

    /// Why this guest cannot be deployed from `output`, if it cannot.
    pub fn unfit_for(&self, output: Output) -> Option<String> {
        let has = |d: Datasource| self.datasources.contains(&d);
        match output {
            Output::Ova if !has(Datasource::OVF) && !has(Datasource::VMware) => {
                Some("output `ova` (vSphere) needs cloud-init's OVF or VMware datasource in cloud_init.datasources".into())
            }
            Output::Openstack if !has(Datasource::ConfigDrive) && !has(Datasource::OpenStack) => {
                Some("output `openstack` needs cloud-init's ConfigDrive or OpenStack datasource in cloud_init.datasources".into())
            }
            _ => None,
        }
    }

    /// Problems with the settings themselves.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        let valid_user = !self.user.is_empty()
            && self.user.len() <= 32
            && self.user.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && self.user.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_user {
            out.push(format!("cloud_init.user `{}` is not a valid login name ([a-z_][a-z0-9_-]*, at most 32)", self.user));
        }
        if self.user == "root" {
            out.push("cloud_init.user must not be root (cloud-init would lock root's SSH login for itself)".into());
        }
        if self.datasources.is_empty() {
            out.push("cloud_init.datasources is empty".into());
        }
        if let Some(pos) = self.datasources.iter().position(|d| *d == Datasource::None) {
            if pos + 1 != self.datasources.len() {
                out.push("cloud_init.datasources: None must come last (cloud-init stops at the first datasource that answers)".into());
            }
        }
        out
    }
}

/// Outputs a definition may list only with cloud-init (nobody could log in otherwise).
pub fn needs_cloud_init(output: Output) -> bool {
    matches!(output, Output::Ova | Output::Openstack)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn outputs_need_their_clouds_datasources() {
        let all = CloudInit::default();
        assert!(all.unfit_for(Output::Ova).is_none() && all.unfit_for(Output::Openstack).is_none());
        let vsphere_only = CloudInit { datasources: vec![Datasource::OVF, Datasource::None], ..Default::default() };
        assert!(vsphere_only.unfit_for(Output::Openstack).unwrap().contains("ConfigDrive"));
        assert!(vsphere_only.unfit_for(Output::Ova).is_none());
        assert!(vsphere_only.unfit_for(Output::Qcow2).is_none());
        let bad = CloudInit { user: "Root!".into(), datasources: vec![Datasource::None, Datasource::OVF] };
        assert_eq!(bad.problems().len(), 2, "{:?}", bad.problems());
        assert_eq!(all.role_vars()["cloud_init_datasources"], json!(["VMware", "OVF", "ConfigDrive", "OpenStack", "NoCloud", "None"]));
    }
}
