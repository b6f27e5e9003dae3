//! Reading an OVF descriptor back: the virtual machine it asks vSphere for (CPUs, memory, firmware,
//! disk controller, NIC, disk capacity) and its vApp options. `mdxconf image test` boots a VM from
//! exactly this, so what is tested is what vSphere would deploy.
use crate::ovf::{Controller, Firmware};
use anyhow::{anyhow, bail, Context, Result};

const OVF_NS: &str = "http://schemas.dmtf.org/ovf/envelope/1";
const VMW_NS: &str = "http://www.vmware.com/schema/ovf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvfDescriptor {
    pub name: String,
    /// vmw:osType of the OperatingSystemSection
    pub os_type: String,
    /// NN of `vmx-NN`
    pub vmx_version: Option<u32>,
    pub cpus: u32,
    pub memory_mib: u64,
    pub firmware: Firmware,
    pub controller: Controller,
    /// rasd:ResourceSubType of the first NIC (e.g. "VmxNet3")
    pub nic: Option<String>,
    pub disk_capacity: u64,
    /// (key, default value) of every ProductSection property
    pub properties: Vec<(String, String)>,
    /// ovf:transport of the VirtualHardwareSection ("iso", "com.vmware.guestInfo")
    pub transports: Vec<String>,
    pub has_cdrom: bool,
}

fn child_text<'a>(n: roxmltree::Node<'a, 'a>, local: &str) -> Option<&'a str> {
    n.children().find(|c| c.tag_name().name() == local).and_then(|c| c.text()).map(str::trim)
}

/// `value` times `units` ("byte", "byte * 2^20", ...) in bytes.
pub fn allocation_bytes(value: &str, units: Option<&str>) -> Result<u64> {
    let v: u64 = value.trim().parse().map_err(|_| anyhow!("{value:?} is not a number"))?;
    let mult = match units.map(|u| u.replace(' ', "")) {
        None => 1,
        Some(u) if u == "byte" => 1,
        Some(u) => {
            let exp = u.strip_prefix("byte*2^").and_then(|e| e.parse::<u32>().ok()).ok_or_else(|| anyhow!("unsupported allocation units {u:?}"))?;
            1u64.checked_shl(exp).filter(|_| exp < 64).ok_or_else(|| anyhow!("allocation unit exponent {exp} too large"))?
        }
    };
    v.checked_mul(mult).ok_or_else(|| anyhow!("{value} {units:?} overflows"))
}

pub fn parse(text: &str) -> Result<OvfDescriptor> {
    let doc = roxmltree::Document::parse(text).context("the OVF descriptor is not well-formed XML")?;
    let vs = doc.descendants().find(|n| n.has_tag_name((OVF_NS, "VirtualSystem"))).ok_or_else(|| anyhow!("no VirtualSystem in the OVF"))?;
    let name = vs.attribute((OVF_NS, "id")).unwrap_or_default().to_string();
    let os = vs.descendants().find(|n| n.has_tag_name((OVF_NS, "OperatingSystemSection")));
    let os_type = os.and_then(|n| n.attribute((VMW_NS, "osType"))).unwrap_or_default().to_string();
    let hw = vs.descendants().find(|n| n.has_tag_name((OVF_NS, "VirtualHardwareSection"))).ok_or_else(|| anyhow!("no VirtualHardwareSection in the OVF"))?;
    let transports = hw.attribute((OVF_NS, "transport")).unwrap_or_default().split_whitespace().map(String::from).collect();
    let vmx_version = hw
        .descendants()
        .find(|n| n.tag_name().name() == "VirtualSystemType")
        .and_then(|n| n.text())
        .and_then(|t| t.trim().split(|c: char| c.is_whitespace() || c == ',').find_map(|v| v.strip_prefix("vmx-").and_then(|n| n.parse().ok())));
    let (mut cpus, mut memory_mib, mut controller, mut nic, mut has_cdrom) = (None, None, None, None, false);
    for item in hw.children().filter(|n| n.has_tag_name((OVF_NS, "Item"))) {
        let rtype = child_text(item, "ResourceType").unwrap_or_default();
        let qty = child_text(item, "VirtualQuantity");
        let units = child_text(item, "AllocationUnits");
        let sub = child_text(item, "ResourceSubType").unwrap_or_default();
        match rtype {
            "3" => cpus = Some(qty.ok_or_else(|| anyhow!("CPU item without VirtualQuantity"))?.parse::<u32>().context("CPU count")?),
            "4" => memory_mib = Some(allocation_bytes(qty.ok_or_else(|| anyhow!("memory item without VirtualQuantity"))?, units).context("memory size")? >> 20),
            "6" if controller.is_none() => {
                controller = Some(match sub {
                    "VirtualSCSI" => Controller::Pvscsi,
                    other => bail!("SCSI controller {other:?}: only VirtualSCSI (pvscsi) is supported"),
                })
            }
            "20" if controller.is_none() => controller = Some(Controller::Nvme),
            "10" if nic.is_none() => nic = Some(sub.to_string()),
            "15" | "16" => has_cdrom = true,
            _ => {}
        }
    }
    let firmware = match hw.children().find(|n| n.tag_name().name() == "Config" && n.attribute((VMW_NS, "key")) == Some("firmware")).and_then(|n| n.attribute((VMW_NS, "value"))) {
        Some("efi") => Firmware::Efi,
        _ => Firmware::Bios,
    };
    let disk = doc.descendants().find(|n| n.has_tag_name((OVF_NS, "Disk"))).ok_or_else(|| anyhow!("no Disk in the DiskSection"))?;
    let disk_capacity =
        allocation_bytes(disk.attribute((OVF_NS, "capacity")).ok_or_else(|| anyhow!("Disk without ovf:capacity"))?, disk.attribute((OVF_NS, "capacityAllocationUnits")))
            .context("disk capacity")?;
    let properties = vs
        .descendants()
        .filter(|n| n.has_tag_name((OVF_NS, "Property")) && n.parent().is_some_and(|p| p.has_tag_name((OVF_NS, "ProductSection"))))
        .map(|n| (n.attribute((OVF_NS, "key")).unwrap_or_default().to_string(), n.attribute((OVF_NS, "value")).unwrap_or_default().to_string()))
        .collect();
    Ok(OvfDescriptor {
        name,
        os_type,
        vmx_version,
        cpus: cpus.ok_or_else(|| anyhow!("the OVF names no CPU count"))?,
        memory_mib: memory_mib.ok_or_else(|| anyhow!("the OVF names no memory size"))?,
        firmware,
        controller: controller.ok_or_else(|| anyhow!("the OVF names no disk controller (pvscsi or NVMe)"))?,
        nic,
        disk_capacity,
        properties,
        transports,
        has_cdrom,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovf::{render, OvfParams, VmHardware};

    #[test]
    fn reads_back_what_render_wrote() {
        let vm = VmHardware {
            name: "d12".into(),
            os_type: "debian11_64Guest".into(),
            cpus: 3,
            memory_mib: 1536,
            firmware: Firmware::Efi,
            controller: Controller::Nvme,
            vmx_version: 17,
            network: "VM Network".into(),
            product: Some(crate::vapp::cloud_init_product("d12", "3")),
        };
        let x = render(&OvfParams { vm, disk_file: "d12-disk1.vmdk".into(), disk_capacity: 8 << 30, disk_file_size: 1, populated_size: 1 }).unwrap();
        let d = parse(&x).unwrap();
        assert_eq!((d.name.as_str(), d.os_type.as_str(), d.vmx_version, d.cpus, d.memory_mib), ("d12", "debian11_64Guest", Some(17), 3, 1536));
        assert_eq!((d.firmware, d.controller, d.nic.as_deref(), d.disk_capacity), (Firmware::Efi, Controller::Nvme, Some("VmxNet3"), 8 << 30));
        assert_eq!(d.transports, ["iso", "com.vmware.guestInfo"]);
        assert!(d.has_cdrom);
        assert_eq!(d.properties.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), crate::vapp::CLOUD_INIT_KEYS);
        assert!(parse("<x/>").is_err());
        assert!(allocation_bytes("1", Some("byte * 2^64")).is_err());
    }
}
