//! OVF 1.x descriptor for vSphere (DSP0243 / dsp8023 envelope schema, with VMware's vmw: extensions).
//! rasd:* children of each Item follow the CIM_ResourceAllocationSettingData schema's sequence, which is
//! alphabetical; the schema (and vSphere) reject other orders.
use anyhow::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Firmware {
    Bios,
    Efi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Controller {
    /// VMware Paravirtual SCSI (rasd:ResourceType 6, VirtualSCSI)
    Pvscsi,
    /// NVMe (rasd:ResourceType 20, vmware.nvme.controller)
    Nvme,
}

/// Guest OS identifiers: vSphere's guestId (vmw:osType) and the CIM OSType number (ovf:id).
const GUEST_OS: &[(&str, u16, &str)] = &[
    ("ubuntu64Guest", 94, "Ubuntu Linux (64-bit)"),
    ("debian10_64Guest", 96, "Debian GNU/Linux 10 (64-bit)"),
    ("debian11_64Guest", 96, "Debian GNU/Linux 11 (64-bit)"),
    ("debian12_64Guest", 96, "Debian GNU/Linux 12 (64-bit)"),
    ("rhel8_64Guest", 80, "Red Hat Enterprise Linux 8 (64-bit)"),
    ("rhel9_64Guest", 80, "Red Hat Enterprise Linux 9 (64-bit)"),
    ("centos8_64Guest", 107, "CentOS 8 (64-bit)"),
    ("rockylinux_64Guest", 107, "Rocky Linux (64-bit)"),
    ("almalinux_64Guest", 107, "AlmaLinux (64-bit)"),
    ("otherLinux64Guest", 101, "Other Linux (64-bit)"),
    ("other5xLinux64Guest", 101, "Other 5.x Linux (64-bit)"),
    ("other6xLinux64Guest", 101, "Other 6.x Linux (64-bit)"),
];

pub fn guest_os(os_type: &str) -> Result<(u16, &'static str)> {
    match GUEST_OS.iter().find(|(id, _, _)| *id == os_type) {
        Some((_, cim, desc)) => Ok((*cim, desc)),
        None => {
            let known: Vec<&str> = GUEST_OS.iter().map(|(id, _, _)| *id).collect();
            bail!("unknown guest OS {os_type:?}; supported: {}", known.join(", "))
        }
    }
}

/// The virtual machine an OVF describes: what `export_ova` is asked for and the OVF renders.
#[derive(Debug, Clone)]
pub struct VmHardware {
    /// VM and file base name: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 64 characters.
    pub name: String,
    /// vSphere guest id, e.g. `ubuntu64Guest`, `debian12_64Guest`.
    pub os_type: String,
    pub cpus: u32,
    pub memory_mib: u64,
    pub firmware: Firmware,
    pub controller: Controller,
    pub vmx_version: u32,
    pub network: String,
    /// vApp options (the OVF environment handed to the guest at deploy time), e.g. cloud-init's.
    pub product: Option<ProductSection>,
}

/// An OVF ProductSection: properties vSphere asks for at deploy time and hands to the guest in the
/// OVF environment, over each of `transports` ("iso": an ISO with ovf-env.xml on a CD-ROM the OVF
/// declares; "com.vmware.guestInfo": the `guestinfo.ovfEnv` variable VMware Tools reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductSection {
    pub info: String,
    pub product: String,
    pub vendor: String,
    pub version: String,
    pub properties: Vec<OvfProperty>,
    pub transports: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OvfProperty {
    pub key: String,
    /// OVF property type: "string", "boolean", "uint16", ...
    pub kind: String,
    pub user_configurable: bool,
    /// Default value
    pub value: String,
    /// vSphere masks the value while typing it and in the UI.
    pub password: bool,
    pub label: String,
    pub description: String,
}

impl Default for VmHardware {
    fn default() -> Self {
        VmHardware {
            name: String::new(),
            os_type: "ubuntu64Guest".into(),
            cpus: 2,
            memory_mib: 4096,
            firmware: Firmware::Efi,
            controller: Controller::Pvscsi,
            vmx_version: crate::vsphere::DEFAULT_VSPHERE.max_hardware_version().unwrap_or(17),
            network: "VM Network".into(),
            product: None,
        }
    }
}

/// The hardware plus the disk facts only known while exporting.
#[derive(Debug, Clone)]
pub struct OvfParams {
    pub vm: VmHardware,
    pub disk_file: String,
    pub disk_capacity: u64,
    pub disk_file_size: u64,
    pub populated_size: u64,
}

pub const STREAM_OPTIMIZED_FORMAT: &str = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";

pub fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// One rasd Item; `fields` must be in schema (alphabetical) order, checked in debug builds and tests.
fn item(out: &mut String, required: bool, fields: &[(&str, String)]) {
    debug_assert!(fields.windows(2).all(|w| w[0].0 < w[1].0), "rasd fields out of schema order: {fields:?}");
    out.push_str(if required { "      <Item>\n" } else { "      <Item ovf:required=\"false\">\n" });
    for (k, v) in fields {
        out.push_str(&format!("        <rasd:{k}>{}</rasd:{k}>\n", xml_escape(v)));
    }
    out.push_str("      </Item>\n");
}

pub fn render(p: &OvfParams) -> Result<String> {
    let (os_id, os_desc) = guest_os(&p.vm.os_type)?;
    let name = xml_escape(&p.vm.name);
    let net = xml_escape(&p.vm.network);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(concat!(
        "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"",
        " xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\"",
        " xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"",
        " xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\"",
        " xmlns:vmw=\"http://www.vmware.com/schema/ovf\"",
        " xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\"",
        " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    ));
    x.push_str("  <References>\n");
    x.push_str(&format!("    <File ovf:href=\"{}\" ovf:id=\"file1\" ovf:size=\"{}\"/>\n", xml_escape(&p.disk_file), p.disk_file_size));
    x.push_str("  </References>\n");
    x.push_str("  <DiskSection>\n    <Info>Virtual disk information</Info>\n");
    x.push_str(&format!(
        "    <Disk ovf:capacity=\"{}\" ovf:capacityAllocationUnits=\"byte\" ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\" ovf:format=\"{STREAM_OPTIMIZED_FORMAT}\" ovf:populatedSize=\"{}\"/>\n",
        p.disk_capacity, p.populated_size
    ));
    x.push_str("  </DiskSection>\n");
    x.push_str("  <NetworkSection>\n    <Info>The list of logical networks</Info>\n");
    x.push_str(&format!("    <Network ovf:name=\"{net}\">\n      <Description>The {net} network</Description>\n    </Network>\n"));
    x.push_str("  </NetworkSection>\n");
    x.push_str(&format!("  <VirtualSystem ovf:id=\"{name}\">\n    <Info>A virtual machine</Info>\n    <Name>{name}</Name>\n"));
    x.push_str(&format!(
        "    <OperatingSystemSection ovf:id=\"{os_id}\" vmw:osType=\"{}\">\n      <Info>The kind of installed guest operating system</Info>\n      <Description>{}</Description>\n    </OperatingSystemSection>\n",
        xml_escape(&p.vm.os_type),
        xml_escape(os_desc)
    ));
    let transports = p.vm.product.as_ref().map(|ps| ps.transports.join(" ")).unwrap_or_default();
    if transports.is_empty() {
        x.push_str("    <VirtualHardwareSection>\n");
    } else {
        x.push_str(&format!("    <VirtualHardwareSection ovf:transport=\"{}\">\n", xml_escape(&transports)));
    }
    x.push_str("      <Info>Virtual hardware requirements</Info>\n");
    x.push_str(&format!(
        "      <System>\n        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n        <vssd:InstanceID>0</vssd:InstanceID>\n        <vssd:VirtualSystemIdentifier>{name}</vssd:VirtualSystemIdentifier>\n        <vssd:VirtualSystemType>vmx-{:02}</vssd:VirtualSystemType>\n      </System>\n",
        p.vm.vmx_version
    ));
    let s = |v: &str| v.to_string();
    item(
        &mut x,
        true,
        &[
            ("AllocationUnits", s("hertz * 10^6")),
            ("Description", s("Number of Virtual CPUs")),
            ("ElementName", format!("{} virtual CPU(s)", p.vm.cpus)),
            ("InstanceID", s("1")),
            ("ResourceType", s("3")),
            ("VirtualQuantity", p.vm.cpus.to_string()),
        ],
    );
    item(
        &mut x,
        true,
        &[
            ("AllocationUnits", s("byte * 2^20")),
            ("Description", s("Memory Size")),
            ("ElementName", format!("{}MB of memory", p.vm.memory_mib)),
            ("InstanceID", s("2")),
            ("ResourceType", s("4")),
            ("VirtualQuantity", p.vm.memory_mib.to_string()),
        ],
    );
    match p.vm.controller {
        Controller::Pvscsi => item(
            &mut x,
            true,
            &[
                ("Address", s("0")),
                ("Description", s("SCSI Controller")),
                ("ElementName", s("SCSI Controller 0")),
                ("InstanceID", s("3")),
                ("ResourceSubType", s("VirtualSCSI")),
                ("ResourceType", s("6")),
            ],
        ),
        Controller::Nvme => item(
            &mut x,
            true,
            &[
                ("Address", s("0")),
                ("Description", s("NVMe Controller")),
                ("ElementName", s("NVMe Controller 0")),
                ("InstanceID", s("3")),
                ("ResourceSubType", s("vmware.nvme.controller")),
                ("ResourceType", s("20")),
            ],
        ),
    }
    item(
        &mut x,
        true,
        &[
            ("AddressOnParent", s("0")),
            ("ElementName", s("Hard Disk 1")),
            ("HostResource", s("ovf:/disk/vmdisk1")),
            ("InstanceID", s("4")),
            ("Parent", s("3")),
            ("ResourceType", s("17")),
        ],
    );
    item(
        &mut x,
        true,
        &[
            ("AddressOnParent", s("7")),
            ("AutomaticAllocation", s("true")),
            ("Connection", p.vm.network.clone()),
            ("Description", format!("VmxNet3 ethernet adapter on \"{}\"", p.vm.network)),
            ("ElementName", s("Network adapter 1")),
            ("InstanceID", s("5")),
            ("ResourceSubType", s("VmxNet3")),
            ("ResourceType", s("10")),
        ],
    );
    item(&mut x, false, &[("AutomaticAllocation", s("false")), ("ElementName", s("Video card")), ("InstanceID", s("6")), ("ResourceType", s("24"))]);
    // the "iso" transport needs a CD-ROM drive to attach the OVF environment to
    if p.vm.product.as_ref().is_some_and(|ps| ps.transports.iter().any(|t| t == "iso")) {
        item(&mut x, true, &[("Address", s("0")), ("Description", s("IDE Controller")), ("ElementName", s("IDE Controller 0")), ("InstanceID", s("7")), ("ResourceType", s("5"))]);
        item(
            &mut x,
            false,
            &[
                ("AddressOnParent", s("0")),
                ("AutomaticAllocation", s("false")),
                ("ElementName", s("CD-ROM 1")),
                ("InstanceID", s("8")),
                ("Parent", s("7")),
                ("ResourceType", s("15")),
            ],
        );
    }
    let fw = match p.vm.firmware {
        Firmware::Bios => "bios",
        Firmware::Efi => "efi",
    };
    x.push_str(&format!("      <vmw:Config ovf:required=\"false\" vmw:key=\"firmware\" vmw:value=\"{fw}\"/>\n"));
    x.push_str("    </VirtualHardwareSection>\n");
    if let Some(ps) = &p.vm.product {
        product_section(&mut x, ps);
    }
    x.push_str("  </VirtualSystem>\n</Envelope>\n");
    Ok(x)
}

fn product_section(x: &mut String, ps: &ProductSection) {
    x.push_str(&format!("    <ProductSection ovf:required=\"false\">\n      <Info>{}</Info>\n", xml_escape(&ps.info)));
    // schema order: Product, Vendor, Version, then the properties
    for (tag, v) in [("Product", &ps.product), ("Vendor", &ps.vendor), ("Version", &ps.version)] {
        if !v.is_empty() {
            x.push_str(&format!("      <{tag}>{}</{tag}>\n", xml_escape(v)));
        }
    }
    for pr in &ps.properties {
        x.push_str(&format!(
            "      <Property ovf:key=\"{}\" ovf:type=\"{}\" ovf:userConfigurable=\"{}\" ovf:value=\"{}\"{}>\n",
            xml_escape(&pr.key),
            xml_escape(&pr.kind),
            pr.user_configurable,
            xml_escape(&pr.value),
            if pr.password { " ovf:password=\"true\"" } else { "" }
        ));
        if !pr.label.is_empty() {
            x.push_str(&format!("        <Label>{}</Label>\n", xml_escape(&pr.label)));
        }
        if !pr.description.is_empty() {
            x.push_str(&format!("        <Description>{}</Description>\n", xml_escape(&pr.description)));
        }
        x.push_str("      </Property>\n");
    }
    x.push_str("    </ProductSection>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> OvfParams {
        OvfParams {
            vm: VmHardware {
                name: "t<1>".into(),
                os_type: "debian12_64Guest".into(),
                cpus: 2,
                memory_mib: 2048,
                firmware: Firmware::Efi,
                controller: Controller::Nvme,
                vmx_version: 19,
                network: "VM Network".into(),
                product: Some(crate::vapp::cloud_init_product("t", "1")),
            },
            disk_file: "t-disk1.vmdk".into(),
            disk_capacity: 1 << 30,
            disk_file_size: 12345,
            populated_size: 4096,
        }
    }

    #[test]
    fn renders_well_formed_xml_with_escaping() {
        let x = render(&params()).unwrap();
        let doc = roxmltree::Document::parse(&x).unwrap();
        let vs = doc.descendants().find(|n| n.has_tag_name("VirtualSystem")).unwrap();
        assert_eq!(vs.attribute(("http://schemas.dmtf.org/ovf/envelope/1", "id")), Some("t<1>"));
        assert!(x.contains("<vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType>"));
        assert!(x.contains("vmw:value=\"efi\""));
        assert!(x.contains("ovf:id=\"96\" vmw:osType=\"debian12_64Guest\""));
        // the vApp options and the CD-ROM the iso transport needs
        assert!(x.contains("<VirtualHardwareSection ovf:transport=\"iso com.vmware.guestInfo\">"), "{x}");
        let keys: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("Property")).filter_map(|n| n.attribute(("http://schemas.dmtf.org/ovf/envelope/1", "key"))).collect();
        assert_eq!(keys, ["instance-id", "hostname", "seedfrom", "public-keys", "user-data", "password"]);
        assert!(x.contains("<rasd:ResourceType>15</rasd:ResourceType>"));
    }

    #[test]
    fn unknown_os_is_rejected_with_the_list() {
        let e = guest_os("windows").unwrap_err().to_string();
        assert!(e.contains("ubuntu64Guest"), "{e}");
    }
}
