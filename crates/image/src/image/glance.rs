//! The `openstack` output's description for Glance: the image properties Nova needs to boot it the
//! way it was built (disk bus, NIC model, firmware, guest agent, OS) and the exact
//! `openstack image create` command line that uploads it with them.
use super::definition::Definition;
use super::target::OsInfo;
use crate::qemu::Firmware;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlanceImage {
    pub name: String,
    /// The qcow2 file, as named in `command`.
    pub file: String,
    pub sha256: String,
    pub size: u64,
    pub virtual_size: u64,
    pub disk_format: String,
    pub container_format: String,
    /// GiB
    pub min_disk: u64,
    /// MiB
    pub min_ram: u32,
    pub properties: Map<String, Value>,
    /// argv of `openstack image create`
    pub command: Vec<String>,
    /// the same, quoted for a POSIX shell
    pub command_line: String,
}

pub struct GlanceInput<'a> {
    pub def: &'a Definition,
    pub os: Option<&'a OsInfo>,
    pub firmware: Firmware,
    pub file_name: &'a str,
    pub sha256: String,
    pub size: u64,
    pub virtual_size: u64,
    /// whether qemu-guest-agent is in the image
    pub guest_agent: bool,
}

pub fn describe(i: &GlanceInput) -> GlanceImage {
    let def = i.def;
    let mut props = Map::new();
    props.insert("hw_disk_bus".into(), json!(def.openstack.disk_bus));
    if def.openstack.disk_bus == "scsi" {
        props.insert("hw_scsi_model".into(), json!("virtio-scsi"));
    }
    props.insert("hw_vif_model".into(), json!(def.openstack.vif_model));
    props.insert("hw_firmware_type".into(), json!(if i.firmware == Firmware::Efi { "uefi" } else { "bios" }));
    props.insert("hw_qemu_guest_agent".into(), json!(if i.guest_agent { "yes" } else { "no" }));
    props.insert("os_type".into(), json!("linux"));
    if let Some(os) = i.os {
        props.insert("os_distro".into(), json!(os.distro));
        props.insert("os_version".into(), json!(os.version));
    }
    for (k, v) in &def.openstack.properties {
        props.insert(k.clone(), v.clone());
    }
    let min_disk = i.virtual_size.div_ceil(1 << 30).max(1);
    let min_ram = def.openstack.min_ram.unwrap_or(def.memory);
    let mut command: Vec<String> = ["openstack", "image", "create", "--disk-format", "qcow2", "--container-format", "bare"].map(String::from).to_vec();
    command.extend(["--min-disk".into(), min_disk.to_string(), "--min-ram".into(), min_ram.to_string()]);
    for (k, v) in &props {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        command.extend(["--property".into(), format!("{k}={v}")]);
    }
    command.extend(["--file".into(), i.file_name.to_string(), def.name.clone()]);
    let command_line = command.iter().map(|a| mdxconf_transport::sh_quote(a)).collect::<Vec<_>>().join(" ");
    GlanceImage {
        name: def.name.clone(),
        file: i.file_name.to_string(),
        sha256: i.sha256.clone(),
        size: i.size,
        virtual_size: i.virtual_size,
        disk_format: "qcow2".into(),
        container_format: "bare".into(),
        min_disk,
        min_ram,
        properties: props,
        command,
        command_line,
    }
}

/// Properties every openstack output must carry (checked by tests and `image test`).
pub const REQUIRED_PROPERTIES: &[&str] = &["hw_disk_bus", "hw_vif_model", "hw_firmware_type", "hw_qemu_guest_agent", "os_distro", "os_version"];
