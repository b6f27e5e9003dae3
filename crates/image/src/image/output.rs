//! The kinds of output a definition asks for (a leaf: definition, cloud_init and outputs read it).
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    Qcow2,
    Raw,
    /// vSphere (mdx I): streamOptimized VMDK + OVF with cloud-init's vApp options
    Ova,
    /// OpenStack (mdx II): compressed qcow2 + the Glance image properties and `openstack image create` line
    Openstack,
}
