//! What a deployment is asked for: the cloud to emulate and the instance metadata it hands the VM.
use std::path::PathBuf;

/// The two mdx clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    /// mdx I: VMware vSphere, OVA templates, cloud-init's OVF datasource (vApp options on an ISO)
    Vsphere,
    /// mdx II: OpenStack, qcow2 images, cloud-init's ConfigDrive datasource
    Openstack,
}

impl Cloud {
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Vsphere => "vsphere",
            Cloud::Openstack => "openstack",
        }
    }
}

/// A static IPv4 configuration the metadata gives (OpenStack network_data.json).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticIpv4 {
    pub address: String,
    pub prefix: u8,
    pub gateway: String,
    pub dns: Vec<String>,
}

impl StaticIpv4 {
    /// An address in QEMU's user-mode network that its DHCP server does not hand out (it starts at
    /// .15), so a guest reachable there took the metadata's static configuration.
    pub fn in_user_net(last_octet: u8) -> StaticIpv4 {
        StaticIpv4 { address: format!("10.0.2.{last_octet}"), prefix: 24, gateway: "10.0.2.2".into(), dns: vec!["10.0.2.3".into()] }
    }
    pub fn netmask(&self) -> String {
        let bits: u32 = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix as u32) };
        std::net::Ipv4Addr::from(bits).to_string()
    }
}

/// What the cloud tells the VM at boot.
#[derive(Debug, Clone)]
pub struct Metadata {
    pub instance_id: String,
    pub hostname: String,
    pub public_keys: Vec<String>,
    pub user_data: Option<Vec<u8>>,
    /// The default user's initial password (vSphere's `password` vApp option).
    pub password: Option<String>,
    /// None: DHCP on the NIC.
    pub ipv4: Option<StaticIpv4>,
}

/// One VM deployed from an artifact the way its cloud would.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub artifact: PathBuf,
    /// Default: from the artifact (an OVA is for vSphere, a qcow2 for OpenStack).
    pub cloud: Option<Cloud>,
    /// Directory for the VM's disk, seed ISO, console log and QMP socket.
    pub dir: PathBuf,
    /// VM name (file names, default hostname).
    pub name: String,
    /// Loopback address the VM's SSH is forwarded from.
    pub ssh_addr: String,
    pub ssh_port: u16,
    /// Extra disk beyond the image's size, as a user deploying with a larger disk would (GiB).
    pub grow_gib: u64,
    pub metadata: Metadata,
    /// Override the CPUs/memory the artifact asks for.
    pub cpus: Option<u32>,
    pub memory_mib: Option<u32>,
}
