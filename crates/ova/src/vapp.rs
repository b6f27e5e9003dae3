//! The vApp options of a cloud-init template: the ProductSection properties cloud-init's OVF
//! datasource reads from the OVF environment (the same keys Ubuntu's cloud-image OVAs offer), and
//! the two transports vSphere can deliver them by.
use crate::ovf::{OvfProperty, ProductSection};

/// The keys cloud-init's OVF datasource understands, in the order vSphere shows them.
pub const CLOUD_INIT_KEYS: &[&str] = &["instance-id", "hostname", "seedfrom", "public-keys", "user-data", "password"];

fn prop(key: &str, value: &str, password: bool, label: &str, description: &str) -> OvfProperty {
    OvfProperty { key: key.into(), kind: "string".into(), user_configurable: true, value: value.into(), password, label: label.into(), description: description.into() }
}

/// ProductSection for a template named `product` at `version`.
pub fn cloud_init_product(product: &str, version: &str) -> ProductSection {
    ProductSection {
        info: "Cloud-init customization: read by cloud-init's OVF datasource at first boot".into(),
        product: product.into(),
        vendor: "mdx (built by mdxconf)".into(),
        version: version.into(),
        properties: vec![
            prop(
                "instance-id",
                "id-ovf",
                false,
                "Instance ID",
                "A unique id for this VM. cloud-init runs its first-boot steps (user, keys, hostname, disk growth) whenever this id differs from the one it saw last.",
            ),
            prop("hostname", "", false, "Hostname", "The VM's host name (cloud-init sets it at boot)."),
            prop(
                "seedfrom",
                "",
                false,
                "Seed URL",
                "Optional: a URL prefix to fetch meta-data and user-data from (PREFIXmeta-data, PREFIXuser-data). Leave empty to use only these properties.",
            ),
            prop("public-keys", "", false, "SSH public keys", "OpenSSH public keys for the default user's authorized_keys, one per line."),
            prop("user-data", "", false, "User data (base64)", "Optional cloud-init user-data (#cloud-config or a script), base64-encoded."),
            prop(
                "password",
                "",
                true,
                "Default user's password",
                "Optional: the default user's initial password; it must be changed at first login. Empty: no password until it is set at first login (mdxconf passwdinit).",
            ),
        ],
        transports: vec!["iso".into(), "com.vmware.guestInfo".into()],
    }
}
