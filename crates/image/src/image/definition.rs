//! images/*.yaml: one template definition per file. Parsed with mdxconf_config::yaml (serde-saphyr);
//! every error names file:line:col.
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    Qcow2,
    Raw,
    Ova,
}

const KEYS: &[&str] = &["name", "description", "base", "source", "disk_size", "cpus", "memory", "firmware", "roles", "vars", "generalize", "outputs", "ssh_timeout", "upstream"];

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

impl Definition {
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
        if parse_size(&disk_size).is_none() {
            let o = get("disk_size").map(|n| n.origin.clone()).unwrap_or(root.origin.clone());
            return Err(err_at(path, &o, format!("disk_size `{disk_size}` is not a size like 8G or 512M")));
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
                if crate::image::installer::netboot_files(nb).is_none() {
                    return Err(err_at(path, &o, format!("unknown netboot installer `{nb}` (known: debian-12)")));
                }
            }
        }
        let def = Definition {
            name,
            description: get("description").map(|n| de(n, path, "description")).transpose()?,
            base,
            source,
            disk_size,
            cpus: get("cpus").map(|n| de(n, path, "cpus")).transpose()?.unwrap_or(2),
            memory: get("memory").map(|n| de(n, path, "memory (MiB)")).transpose()?.unwrap_or(2048),
            firmware,
            roles: get("roles").map(|n| de(n, path, "roles")).transpose()?.unwrap_or_default(),
            vars: get("vars").map(|n| de(n, path, "vars")).transpose()?.unwrap_or_default(),
            generalize: get("generalize").map(|n| de(n, path, "generalize")).transpose()?.unwrap_or_else(GeneralizeStep::all),
            outputs: get("outputs").map(|n| de(n, path, "outputs")).transpose()?.unwrap_or_else(|| vec![Output::Qcow2]),
            ssh_timeout: get("ssh_timeout").map(|n| de(n, path, "ssh_timeout")).transpose()?.unwrap_or(600),
            upstream: get("upstream").map(|n| de(n, path, "upstream (a list of Release/InRelease URLs)")).transpose()?.unwrap_or_default(),
            file: path.to_path_buf(),
            text,
        };
        Ok(def)
    }

    /// Directory of the definition file (relative paths in it resolve from here).
    pub fn dir(&self) -> PathBuf {
        self.file.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }

    /// The definition this one overlays.
    pub fn load_base(&self) -> Result<Option<Definition>, ConfigError> {
        match &self.base {
            None => Ok(None),
            Some(b) => {
                // a name in the same directory, or a path to a definition file (relative to this one)
                let p = if b.ends_with(".yaml") || b.ends_with(".yml") { self.dir().join(b) } else { self.dir().join(format!("{b}.yaml")) };
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
        Ok(chain)
    }
}

#[cfg(test)]
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
        let (_d, p) = write("name: t\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://deb.debian.org/debian\n    packages: [openssh-server]\ndisk_size: 4G\noutputs: [qcow2, raw]\n");
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
