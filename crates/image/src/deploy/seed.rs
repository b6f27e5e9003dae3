//! The media each cloud hands a VM at boot, made the way the cloud makes them:
//! - vSphere's OVF environment (`ovf-env.xml` on an ISO labelled "OVF ENV", the vApp "iso"
//!   transport) with a value for each property the OVF declares, and only those (vSphere delivers
//!   nothing else);
//! - OpenStack's config drive (ISO labelled `config-2`: openstack/latest/meta_data.json, user_data,
//!   network_data.json), as Nova writes it.
use super::options::Metadata;
use anyhow::{bail, Result};
use base64::Engine as _;
use mdxconf_ova::ovf::xml_escape;
use serde_json::json;
use std::path::Path;

/// The value vSphere would put in the environment for `key` (the user's entry, else the default).
fn ovf_value(md: &Metadata, key: &str, default: &str) -> String {
    match key {
        "instance-id" => md.instance_id.clone(),
        "hostname" => md.hostname.clone(),
        "public-keys" => md.public_keys.join("\n"),
        "user-data" => md.user_data.as_ref().map(|u| base64::engine::general_purpose::STANDARD.encode(u)).unwrap_or_default(),
        "password" => md.password.clone().unwrap_or_default(),
        _ => default.to_string(),
    }
}

/// ovf-env.xml for an OVF whose ProductSection declares `properties` ((key, default)).
pub fn ovf_env_xml(md: &Metadata, properties: &[(String, String)], vm_name: &str) -> Result<String> {
    for need in ["instance-id", "public-keys"] {
        if !properties.iter().any(|(k, _)| k == need) {
            bail!("the OVF declares no `{need}` vApp property: vSphere could not give cloud-init the {}", if need == "instance-id" { "instance id" } else { "SSH keys" });
        }
    }
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<Environment xmlns=\"http://schemas.dmtf.org/ovf/environment/1\" xmlns:oe=\"http://schemas.dmtf.org/ovf/environment/1\" xmlns:ve=\"http://www.vmware.com/schema/ovfenv\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" oe:id=\"\" ve:vCenterId=\"vm-{}\">\n",
        xml_escape(vm_name)
    ));
    x.push_str(
        "  <PlatformSection>\n    <Kind>VMware ESXi</Kind>\n    <Version>7.0.3</Version>\n    <Vendor>VMware, Inc.</Vendor>\n    <Locale>en</Locale>\n  </PlatformSection>\n",
    );
    x.push_str("  <PropertySection>\n");
    for (key, default) in properties {
        x.push_str(&format!("    <Property oe:key=\"{}\" oe:value=\"{}\"/>\n", xml_escape(key), xml_escape(&ovf_value(md, key, default))));
    }
    x.push_str("  </PropertySection>\n</Environment>\n");
    Ok(x)
}

pub async fn ovf_env_iso(md: &Metadata, properties: &[(String, String)], vm_name: &str, work: &Path, out: &Path) -> Result<()> {
    let xml = ovf_env_xml(md, properties, vm_name)?;
    crate::iso::make("OVF ENV", &[("ovf-env.xml".into(), xml.into_bytes())], work, out).await
}

/// network_data.json for one NIC (`mac`): the static address when given, else DHCP.
pub fn network_data(md: &Metadata, mac: &str) -> serde_json::Value {
    let link = json!({"id": "tap0", "type": "ovs", "ethernet_mac_address": mac, "mtu": 1500, "vif_id": "00000000-0000-4000-8000-000000000001"});
    match &md.ipv4 {
        Some(ip) => json!({
            "links": [link],
            "networks": [{
                "id": "network0", "type": "ipv4", "link": "tap0",
                "ip_address": ip.address, "netmask": ip.netmask(),
                "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": ip.gateway}],
                "network_id": "00000000-0000-4000-8000-000000000002",
                "services": ip.dns.iter().map(|d| json!({"type": "dns", "address": d})).collect::<Vec<_>>(),
            }],
            "services": ip.dns.iter().map(|d| json!({"type": "dns", "address": d})).collect::<Vec<_>>(),
        }),
        None => json!({
            "links": [link],
            "networks": [{"id": "network0", "type": "ipv4_dhcp", "link": "tap0", "network_id": "00000000-0000-4000-8000-000000000002"}],
            "services": [],
        }),
    }
}

/// The config drive's files.
pub fn config_drive_files(md: &Metadata, mac: &str) -> Vec<(String, Vec<u8>)> {
    let keys: serde_json::Map<String, serde_json::Value> =
        md.public_keys.iter().enumerate().map(|(i, k)| (if i == 0 { "mdx".to_string() } else { format!("mdx{i}") }, json!(k))).collect();
    let mut meta = json!({
        "uuid": md.instance_id,
        "name": md.hostname,
        "hostname": md.hostname,
        "availability_zone": "nova",
        "launch_index": 0,
        "project_id": "mdxconf-image-test",
        "public_keys": keys,
        "keys": md.public_keys.iter().map(|k| json!({"name": "mdx", "type": "ssh", "data": k})).collect::<Vec<_>>(),
        "devices": [],
    });
    if let Some(p) = &md.password {
        meta["admin_pass"] = json!(p);
    }
    let mut files = vec![
        ("openstack/latest/meta_data.json".to_string(), serde_json::to_vec_pretty(&meta).expect("json")),
        ("openstack/latest/network_data.json".to_string(), serde_json::to_vec_pretty(&network_data(md, mac)).expect("json")),
        ("openstack/latest/vendor_data.json".to_string(), b"{}".to_vec()),
    ];
    if let Some(u) = &md.user_data {
        files.push(("openstack/latest/user_data".to_string(), u.clone()));
    }
    files
}

pub async fn config_drive_iso(md: &Metadata, mac: &str, work: &Path, out: &Path) -> Result<()> {
    crate::iso::make("config-2", &config_drive_files(md, mac), work, out).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::options::StaticIpv4;
    fn md() -> Metadata {
        Metadata {
            instance_id: "i-1".into(),
            hostname: "h1".into(),
            public_keys: vec!["ssh-ed25519 AAAA x".into()],
            user_data: Some(b"#cloud-config\n".to_vec()),
            password: None,
            ipv4: Some(StaticIpv4::in_user_net(50)),
        }
    }
    #[test]
    fn ovf_environment_has_the_declared_properties_only() {
        let props: Vec<(String, String)> =
            mdxconf_ova::vapp::CLOUD_INIT_KEYS.iter().map(|k| (k.to_string(), String::new())).chain([("custom".to_string(), "d".to_string())]).collect();
        let x = ovf_env_xml(&md(), &props, "vm").unwrap();
        let doc = roxmltree::Document::parse(&x).unwrap();
        let ns = "http://schemas.dmtf.org/ovf/environment/1";
        let get = |k: &str| doc.descendants().find(|n| n.attribute((ns, "key")) == Some(k)).and_then(|n| n.attribute((ns, "value"))).map(String::from);
        assert_eq!(get("instance-id").as_deref(), Some("i-1"));
        assert_eq!(get("user-data").as_deref(), Some("I2Nsb3VkLWNvbmZpZwo="));
        assert_eq!(get("custom").as_deref(), Some("d"));
        assert!(ovf_env_xml(&md(), &[("hostname".into(), String::new())], "vm").unwrap_err().to_string().contains("instance-id"));
    }
    #[test]
    fn config_drive_network_is_static_when_given() {
        let n = network_data(&md(), "52:54:00:12:34:56");
        assert_eq!(n["networks"][0]["ip_address"], "10.0.2.50");
        assert_eq!(n["networks"][0]["netmask"], "255.255.255.0");
        let files = config_drive_files(&md(), "52:54:00:12:34:56");
        assert!(files.iter().any(|(p, _)| p == "openstack/latest/user_data"));
    }
}
