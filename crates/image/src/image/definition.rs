//! images/*.yaml: one template definition per file. Parsed with mdxconf_config::yaml (serde-saphyr);
//! every error names file:line:col.
use super::cloud_init::{self, CloudInit};
pub use super::output::Output;
use super::target::{OpenstackSettings, OsInfo, VsphereSettings};
use crate::qemu::Firmware;
use mdxconf_config::error::ConfigError;
use mdxconf_config::yaml::{self, Node, NodeKind, Origin};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    pub name: String,
    pub description: Option<String>,
    /// Build as a qcow2 overlay on this other definition (same directory, `<base>.yaml`).
    pub base: Option<String>,
    pub source: Option<Source>,
    /// e.g. "8G" (base images only; overlays inherit their base's size)
    pub disk_size: String,
    pub cpus: u32,
    /// MiB
    pub memory: u32,
    pub firmware: Firmware,
    pub roles: Vec<RoleRef>,
    /// Extra variables for the roles.
    pub vars: Map<String, Value>,
    pub generalize: Vec<GeneralizeStep>,
    pub outputs: Vec<Output>,
    /// Seconds to wait for SSH on the built system.
    pub ssh_timeout: u64,
    /// apt Release/InRelease URLs whose package indexes `image build --refresh` watches (default: a
    /// rootfs source's mirror and suite; an overlay's base's).
    pub upstream: Vec<String>,
    /// The guest setup that makes the template deployable (base definitions; overlays inherit it).
    /// Absent: no cloud-init (test images reached by other means).
    pub cloud_init: Option<CloudInit>,
    /// mdx I: the vSphere release the OVA is for, the disk controller.
    pub vsphere: VsphereSettings,
    /// mdx II: how Nova attaches the image.
    pub openstack: OpenstackSettings,
    /// The guest OS (inferred from the source when absent).
    pub os: Option<OsInfo>,
    /// line:col of each top-level key, for errors found after parsing (outputs vs the base's guest).
    #[serde(skip)]
    pub key_origins: std::collections::BTreeMap<String, (usize, usize)>,
    /// Where this definition came from.
    #[serde(skip)]
    pub file: PathBuf,
    /// The file's text (part of the cache key).
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Source {
    Installer(InstallerSource),
    Rootfs(RootfsSource),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsoRef {
    /// http(s):// or file:// URL, or a local path
    pub url: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallerSource {
    /// Installer ISO (kernel and initrd are extracted from it; the ISO is also attached as a CD-ROM).
    pub iso: Option<IsoRef>,
    /// Use a netboot installer shipped by a Debian package instead of an ISO: `debian-12`.
    pub netboot: Option<String>,
    /// Path of the kernel inside the ISO (e.g. /casper/vmlinuz)
    pub kernel: Option<String>,
    /// Path of the initrd inside the ISO (e.g. /casper/initrd)
    pub initrd: Option<String>,
    /// Kernel command line; `{{ http_url }}` is replaced by mdxconf's HTTP server URL as seen by the guest.
    pub append: String,
    /// Files served over HTTP (name in URL -> file relative to the definition). Templated:
    /// {{ http_url }}, {{ ssh_public_key }}, {{ build_id }}, {{ hostname }}.
    #[serde(default)]
    pub http_files: std::collections::BTreeMap<String, String>,
    /// Also attach the served files as a `cidata` seed ISO (NoCloud), for installers that prefer it.
    #[serde(default)]
    pub seed_iso: bool,
    /// Seconds the installer may take before the build fails.
    #[serde(default = "default_install_timeout")]
    pub timeout: u64,
}

fn default_install_timeout() -> u64 {
    5400
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootfsSource {
    pub suite: String,
    pub mirror: String,
    #[serde(default = "default_variant")]
    pub variant: String,
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub components: Vec<String>,
    /// Install the packages' Recommends too (mmdebstrap, like debootstrap, leaves them out).
    #[serde(default)]
    pub install_recommends: bool,
}

fn default_variant() -> String {
    "minbase".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoleRef {
    Name(String),
    WithVars {
        role: String,
        #[serde(default)]
        vars: Map<String, Value>,
    },
}

impl RoleRef {
    pub fn name(&self) -> &str {
        match self {
            RoleRef::Name(n) => n,
            RoleRef::WithVars { role, .. } => role,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneralizeStep {
    MachineId,
    SshHostKeys,
    CloudInit,
    GrubCmdline,
    AptCache,
    Logs,
    /// Remove the build's SSH key from root's authorized_keys.
    BuildKey,
    ShellHistory,
    /// Discard unused blocks so exported disks stay small.
    Trim,
}

impl GeneralizeStep {
    pub fn all() -> Vec<GeneralizeStep> {
        use GeneralizeStep::*;
        vec![MachineId, SshHostKeys, CloudInit, GrubCmdline, AptCache, Logs, BuildKey, ShellHistory, Trim]
    }
}

const KEYS: &[&str] = &[
    "name",
    "description",
    "base",
    "source",
    "disk_size",
    "cpus",
    "memory",
    "firmware",
    "roles",
    "vars",
    "generalize",
    "outputs",
    "ssh_timeout",
    "upstream",
    "cloud_init",
    "vsphere",
    "openstack",
    "os",
];

/// Debian/Ubuntu mmdebstrap variants (mmdebstrap(1)).
const VARIANTS: &[&str] = &["extract", "custom", "essential", "apt", "required", "minbase", "buildd", "important", "debootstrap", "-", "standard"];

/// A name that is safe as a file and directory name in the cache and the output directory.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.contains("..")
}

/// Deserialize one node; on failure point at the offending key (for unknown fields) or the node itself.
fn de<T: DeserializeOwned>(node: &Node, file: &Path, what: &str) -> Result<T, ConfigError> {
    serde_json::from_value(node.to_value()).map_err(|e| {
        let msg = e.to_string();
        let origin = unknown_field(&msg).and_then(|k| find_key(node, &k)).unwrap_or_else(|| node.origin.clone());
        ConfigError::at(file, origin.line, origin.col, format!("{what}: {msg}"))
    })
}

fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1).or_else(|| msg.split("unknown variant `").nth(1))?;
    Some(rest.split('`').next()?.to_string())
}

fn find_key(node: &Node, key: &str) -> Option<Origin> {
    match &node.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries {
                if k.value == key {
                    return Some(k.origin.clone());
                }
                if let Some(o) = find_key(v, key) {
                    return Some(o);
                }
            }
            None
        }
        NodeKind::Seq(items) => items.iter().find_map(|i| find_key(i, key)),
        NodeKind::Scalar(Value::String(s)) if s == key => Some(node.origin.clone()),
        _ => None,
    }
}

fn err_at(file: &Path, o: &Origin, msg: impl Into<String>) -> ConfigError {
    ConfigError::at(file, o.line, o.col, msg)
}

/// Parse a size like 8G, 512M, 20GiB into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = s[digits.len()..].trim().to_ascii_uppercase();
    let mult = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Why a definition with this guest setup cannot have these outputs.
fn outputs_problem(outputs: &[Output], cloud_init: Option<&CloudInit>, base_name: &str) -> Option<String> {
    for o in outputs {
        match cloud_init {
            None if cloud_init::needs_cloud_init(*o) => {
                return Some(format!(
                    "output `{}` is a template for a cloud, but `{base_name}` has no `cloud_init:` section: nobody could log in to a VM made from it (add `cloud_init: {{}}` to {base_name})",
                    format!("{o:?}").to_lowercase()
                ))
            }
            Some(c) => {
                if let Some(why) = c.unfit_for(*o) {
                    return Some(why);
                }
            }
            None => {}
        }
    }
    None
}

impl Definition {
    /// The roles provisioning runs, in order: the definition's own, then (base definitions with a
    /// `cloud_init:` section) the cloud_init role with its settings.
    pub fn provision_roles(&self) -> Vec<RoleRef> {
        let mut v = self.roles.clone();
        if let Some(c) = &self.cloud_init {
            v.push(RoleRef::WithVars { role: cloud_init::ROLE.into(), vars: c.role_vars() });
        }
        v
    }

    /// The location of a top-level key (the file's start when absent), for errors.
    pub fn origin_of(&self, key: &str) -> (usize, usize) {
        self.key_origins.get(key).copied().unwrap_or((1, 1))
    }

    pub fn load(path: &Path) -> Result<Definition, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::at(path, 0, 0, format!("cannot read image definition: {e}")))?;
        let root = yaml::parse_nodes(&text, path)?;
        let NodeKind::Map(entries) = &root.kind else {
            return Err(err_at(path, &root.origin, format!("an image definition must be a mapping, found {}", root.kind_name())));
        };
        for (k, _) in entries {
            if !KEYS.contains(&k.value.as_str()) {
                return Err(err_at(path, &k.origin, format!("unknown key `{}` (expected one of: {})", k.value, KEYS.join(", "))));
            }
        }
        let get = |k: &str| root.get(k);
        let name: String = match get("name") {
            Some(n) => de(n, path, "name")?,
            None => return Err(err_at(path, &root.origin, "missing required key `name`")),
        };
        let base: Option<String> = get("base").map(|n| de(n, path, "base")).transpose()?;
        let source: Option<Source> = get("source").map(|n| de(n, path, "source")).transpose()?;
        if base.is_some() == source.is_some() {
            return Err(err_at(path, &root.origin, "exactly one of `base` (overlay on another image) or `source` (installer/rootfs) is required"));
        }
        let disk_size: String = get("disk_size").map(|n| de(n, path, "disk_size")).transpose()?.unwrap_or_else(|| "8G".into());
        match parse_size(&disk_size) {
            None => {
                let o = get("disk_size").map(|n| n.origin.clone()).unwrap_or(root.origin.clone());
                return Err(err_at(path, &o, format!("disk_size `{disk_size}` is not a size like 8G or 512M")));
            }
            Some(b) if !(1 << 30..=16 << 40).contains(&b) => {
                let o = get("disk_size").map(|n| n.origin.clone()).unwrap_or(root.origin.clone());
                return Err(err_at(path, &o, format!("disk_size `{disk_size}` must be between 1G and 16T")));
            }
            Some(_) => {}
        }
        let firmware: Firmware = get("firmware").map(|n| de(n, path, "firmware (bios or efi)")).transpose()?.unwrap_or_default();
        if let Some(Source::Installer(i)) = &source {
            let o = get("source").map(|n| n.origin.clone()).unwrap_or(root.origin.clone());
            if i.iso.is_none() == i.netboot.is_none() {
                return Err(err_at(path, &o, "installer: exactly one of `iso` or `netboot` is required"));
            }
            if i.iso.is_some() && (i.kernel.is_none() || i.initrd.is_none()) {
                return Err(err_at(path, &o, "installer: an `iso` source needs `kernel` and `initrd` (paths inside the ISO)"));
            }
            if let Some(iso) = &i.iso {
                if iso.sha256.len() != 64 || !iso.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(err_at(path, &o, "installer.iso.sha256 must be 64 hex digits"));
                }
            }
            if let Some(nb) = &i.netboot {
                if super::netboot::netboot_files(nb).is_none() {
                    return Err(err_at(path, &o, format!("unknown netboot installer `{nb}` (known: debian-12)")));
                }
            }
        }
        let at = |k: &str| get(k).map(|n| n.origin.clone()).unwrap_or(root.origin.clone());
        if !valid_name(&name) {
            return Err(err_at(path, &at("name"), format!("name `{name}` must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit (it names files and directories)")));
        }
        let cpus: u32 = get("cpus").map(|n| de(n, path, "cpus")).transpose()?.unwrap_or(2);
        if !(1..=256).contains(&cpus) {
            return Err(err_at(path, &at("cpus"), format!("cpus must be 1-256, found {cpus}")));
        }
        let memory: u32 = get("memory").map(|n| de(n, path, "memory (MiB)")).transpose()?.unwrap_or(2048);
        if memory < 256 {
            return Err(err_at(path, &at("memory"), format!("memory is in MiB and must be at least 256, found {memory}")));
        }
        let ssh_timeout: u64 = get("ssh_timeout").map(|n| de(n, path, "ssh_timeout")).transpose()?.unwrap_or(600);
        if ssh_timeout == 0 {
            return Err(err_at(path, &at("ssh_timeout"), "ssh_timeout must be at least 1 second"));
        }
        if let Some(Source::Rootfs(r)) = &source {
            let o = get("source").and_then(|n| n.get("rootfs")).map(|n| n.origin.clone()).unwrap_or(at("source"));
            if r.suite.trim().is_empty() || !r.suite.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(err_at(path, &o, format!("rootfs.suite `{}` is not a suite name like bookworm", r.suite)));
            }
            if !VARIANTS.contains(&r.variant.as_str()) {
                return Err(err_at(path, &o, format!("rootfs.variant `{}` is not one of mmdebstrap's: {}", r.variant, VARIANTS.join(", "))));
            }
            if !(r.mirror.starts_with("http://") || r.mirror.starts_with("https://") || r.mirror.starts_with("file://")) {
                return Err(err_at(path, &o, format!("rootfs.mirror `{}` must be an http(s):// or file:// URL", r.mirror)));
            }
        }
        let cloud_init: Option<CloudInit> = get("cloud_init").map(|n| de(n, path, "cloud_init")).transpose()?;
        if let Some(c) = &cloud_init {
            if base.is_some() {
                return Err(err_at(path, &at("cloud_init"), "cloud_init is set on the base definition (the guest setup is part of the base disk); overlays inherit it"));
            }
            if let Some(p) = c.problems().into_iter().next() {
                return Err(err_at(path, &at("cloud_init"), p));
            }
        }
        let vsphere: VsphereSettings = get("vsphere").map(|n| de(n, path, "vsphere")).transpose()?.unwrap_or_default();
        if let Err(e) = vsphere.release().and_then(|_| vsphere.controller()) {
            return Err(err_at(path, &at("vsphere"), format!("vsphere: {e}")));
        }
        let openstack: OpenstackSettings = get("openstack").map(|n| de(n, path, "openstack")).transpose()?.unwrap_or_default();
        if let Some(p) = openstack.problems().into_iter().next() {
            return Err(err_at(path, &at("openstack"), p));
        }
        let outputs: Vec<Output> = get("outputs").map(|n| de(n, path, "outputs")).transpose()?.unwrap_or_else(|| vec![Output::Qcow2]);
        if base.is_none() {
            if let Some(why) = outputs_problem(&outputs, cloud_init.as_ref(), &name) {
                return Err(err_at(path, &at("outputs"), why));
            }
        }
        let key_origins = entries.iter().map(|(k, _)| (k.value.clone(), (k.origin.line, k.origin.col))).collect();
        let def = Definition {
            name,
            description: get("description").map(|n| de(n, path, "description")).transpose()?,
            base,
            source,
            disk_size,
            cpus,
            memory,
            firmware,
            roles: get("roles").map(|n| de(n, path, "roles")).transpose()?.unwrap_or_default(),
            vars: get("vars").map(|n| de(n, path, "vars")).transpose()?.unwrap_or_default(),
            generalize: get("generalize").map(|n| de(n, path, "generalize")).transpose()?.unwrap_or_else(GeneralizeStep::all),
            outputs,
            ssh_timeout,
            upstream: get("upstream").map(|n| de(n, path, "upstream (a list of Release/InRelease URLs)")).transpose()?.unwrap_or_default(),
            cloud_init,
            vsphere,
            openstack,
            os: get("os").map(|n| de(n, path, "os")).transpose()?,
            key_origins,
            file: path.to_path_buf(),
            text,
        };
        Ok(def)
    }

    /// Directory of the definition file (relative paths in it resolve from here).
    pub fn dir(&self) -> PathBuf {
        self.file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }

    /// The file `base:` names: a name in the same directory, or a path to a definition file
    /// (relative to this one).
    pub fn base_path(&self) -> Option<PathBuf> {
        self.base.as_ref().map(|b| if b.ends_with(".yaml") || b.ends_with(".yml") { self.dir().join(b) } else { self.dir().join(format!("{b}.yaml")) })
    }

    /// The definition this one overlays.
    pub fn load_base(&self) -> Result<Option<Definition>, ConfigError> {
        match (&self.base, self.base_path()) {
            (None, _) | (_, None) => Ok(None),
            (Some(b), Some(p)) => {
                if !p.exists() {
                    return Err(ConfigError::at(&self.file, 0, 0, format!("base image `{b}` not found (looked for {})", p.display())));
                }
                Definition::load(&p).map(Some)
            }
        }
    }

    /// The chain from the root base down to this definition.
    pub fn chain(&self) -> Result<Vec<Definition>, ConfigError> {
        let mut chain = vec![self.clone()];
        let mut cur = self.clone();
        while let Some(b) = cur.load_base()? {
            if chain.iter().any(|d| d.name == b.name) || chain.len() > 10 {
                return Err(ConfigError::at(&self.file, 0, 0, format!("base chain loops at `{}`", b.name)));
            }
            chain.push(b.clone());
            cur = b;
        }
        chain.reverse();
        if self.base.is_some() {
            let root = &chain[0];
            if let Some(why) = outputs_problem(&self.outputs, root.cloud_init.as_ref(), &root.name) {
                let (line, col) = self.origin_of("outputs");
                return Err(ConfigError::at(&self.file, line, col, format!("{why} (the guest is set up by base `{}`, {})", root.name, root.file.display())));
            }
        }
        Ok(chain)
    }

    /// The guest setup of this image: its own, or its root base's (overlays inherit it).
    pub fn effective_cloud_init(chain: &[Definition]) -> Option<&CloudInit> {
        chain.first().and_then(|d| d.cloud_init.as_ref())
    }

    /// The guest OS: `os:` of the nearest definition in the chain that sets it, else inferred from the
    /// root's source (rootfs suite, installer ISO or netboot name).
    pub fn effective_os(chain: &[Definition]) -> Option<OsInfo> {
        if let Some(os) = chain.iter().rev().find_map(|d| d.os.clone()) {
            return Some(os);
        }
        match chain.first()?.source.as_ref()? {
            Source::Rootfs(r) => OsInfo::from_suite(&r.suite),
            Source::Installer(i) => i.iso.as_ref().and_then(|iso| OsInfo::from_installer_name(&iso.url)).or_else(|| i.netboot.as_deref().and_then(OsInfo::from_installer_name)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;
    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.yaml");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }
    #[test]
    fn parses_rootfs_definition() {
        let (_d, p) = write(
            "name: t\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://deb.debian.org/debian\n    packages: [openssh-server]\ndisk_size: 4G\noutputs: [qcow2, raw]\n",
        );
        let d = Definition::load(&p).unwrap();
        assert_eq!(d.name, "t");
        assert!(matches!(d.source, Some(Source::Rootfs(ref r)) if r.packages == vec!["openssh-server"]));
        assert_eq!(d.outputs, vec![Output::Qcow2, Output::Raw]);
        assert_eq!(d.generalize, GeneralizeStep::all());
    }
    #[test]
    fn unknown_nested_key_is_located() {
        let (_d, p) = write("name: t\nsource:\n  rootfs:\n    suite: bookworm\n    mirorr: x\n");
        let e = Definition::load(&p).unwrap_err();
        assert_eq!((e.line, e.col), (5, 5), "{e}");
        assert!(e.message.contains("mirorr"), "{e}");
    }
    #[test]
    fn unknown_top_key_is_located() {
        let (_d, p) = write("name: t\nbase: x\ndisksize: 3G\n");
        let e = Definition::load(&p).unwrap_err();
        assert_eq!((e.line, e.col), (3, 1), "{e}");
    }
    #[test]
    fn bad_size() {
        let (_d, p) = write("name: t\nbase: x\ndisk_size: lots\n");
        let e = Definition::load(&p).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
    }
}
