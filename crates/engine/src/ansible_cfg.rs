//! `ansible.cfg`, found as ansible-playbook finds it (`$ANSIBLE_CONFIG`, `./ansible.cfg`,
//! `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`; the first that exists), and the settings of it that
//! change what a run does. Command-line flags win over it; inventory and play settings win over its
//! defaults, as in Ansible. Settings that only tune Ansible's own machinery (pipelining, ControlPersist)
//! have no meaning here and are ignored; an unknown section or key is ignored too, as Ansible does.
use mdxconf_config::error::ConfigError;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// What a run takes from ansible.cfg.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnsibleCfg {
    pub path: Option<PathBuf>,
    /// [defaults] inventory
    pub inventory: Option<PathBuf>,
    /// [defaults] forks
    pub forks: Option<usize>,
    /// [defaults] roles_path (colon separated)
    pub roles_path: Vec<PathBuf>,
    /// [defaults] remote_user: below the play's `remote_user` and the inventory's `ansible_user`
    pub remote_user: Option<String>,
    /// [defaults] gathering = explicit: plays without `gather_facts` do not gather
    pub gather_by_default: bool,
    /// [privilege_escalation] become / become_user: below play and task keywords and ansible_become
    pub become_: bool,
    pub become_user: Option<String>,
    /// Connection settings given to every host as its lowest-precedence variables
    /// (ssh_args, private_key_file, host_key_checking, timeout)
    pub host_defaults: Map<String, Value>,
}

/// The file ansible-playbook would read, if any.
pub fn locate(cwd: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ANSIBLE_CONFIG").map(PathBuf::from) {
        return Some(if p.is_dir() { p.join("ansible.cfg") } else { p });
    }
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".ansible.cfg"));
    [Some(cwd.join("ansible.cfg")), home, Some(PathBuf::from("/etc/ansible/ansible.cfg"))].into_iter().flatten().find(|p| p.is_file())
}

fn truthy(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" | "y" | "t" => Some(true),
        "no" | "false" | "off" | "0" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// Read an ansible.cfg (INI: `[section]`, `key = value` or `key: value`, `#`/`;` comments).
pub fn load(path: &Path) -> Result<AnsibleCfg, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::at(path, 0, 0, format!("cannot read: {e}")))?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<AnsibleCfg, ConfigError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let rel = |v: &str| -> PathBuf {
        let p = match v.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
            None => PathBuf::from(v),
        };
        if p.is_absolute() {
            p
        } else {
            dir.join(p)
        }
    };
    let mut cfg = AnsibleCfg { path: Some(path.to_path_buf()), gather_by_default: true, ..Default::default() };
    let mut section = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[') {
            section = s.strip_suffix(']').ok_or_else(|| ConfigError::at(path, i + 1, 1, format!("section header without `]`: {line}")))?.trim().to_string();
            continue;
        }
        let Some((k, v)) = line.split_once(['=', ':']) else {
            return Err(ConfigError::at(path, i + 1, 1, format!("expected `key = value`, found `{line}`")));
        };
        let (k, v) = (k.trim(), v.trim());
        let bad = |what: &str| ConfigError::at(path, i + 1, raw.find(v).map_or(1, |c| c + 1), format!("[{section}] {k}: {what}, found `{v}`"));
        match (section.as_str(), k) {
            ("defaults", "inventory" | "hostfile") => cfg.inventory = Some(rel(v.split(',').next().unwrap_or(v).trim())),
            ("defaults", "forks") => cfg.forks = Some(v.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a positive number"))?),
            ("defaults", "roles_path") => cfg.roles_path = v.split(':').filter(|s| !s.is_empty()).map(rel).collect(),
            ("defaults", "remote_user") => cfg.remote_user = Some(v.to_string()),
            ("defaults", "gathering") => cfg.gather_by_default = v != "explicit",
            ("defaults", "private_key_file") => {
                cfg.host_defaults.insert("ansible_ssh_private_key_file".into(), Value::String(rel(v).display().to_string()));
            }
            ("defaults", "host_key_checking") => {
                cfg.host_defaults.insert("ansible_host_key_checking".into(), Value::Bool(truthy(v).ok_or_else(|| bad("a boolean"))?));
            }
            ("defaults", "timeout") => {
                cfg.host_defaults.insert("ansible_timeout".into(), Value::String(v.to_string()));
            }
            ("privilege_escalation", "become") => cfg.become_ = truthy(v).ok_or_else(|| bad("a boolean"))?,
            ("privilege_escalation", "become_user") => cfg.become_user = Some(v.to_string()),
            ("privilege_escalation", "become_method") if v != "sudo" => return Err(bad("only sudo is supported")),
            ("ssh_connection", "ssh_args") => {
                cfg.host_defaults.insert("ansible_ssh_args".into(), Value::String(v.to_string()));
            }
            ("ssh_connection", "ssh_common_args") => {
                cfg.host_defaults.insert("ansible_ssh_common_args".into(), Value::String(v.to_string()));
            }
            _ => {}
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_configs_cfg() {
        let text = "[ssh_connection]\npipelining=True\n\nssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n\n[defaults]\nforks = 30\ninventory = hosts.ini\n\n[privilege_escalation]\nbecome = yes\n";
        let c = parse(text, Path::new("/p/ansible.cfg")).unwrap();
        assert_eq!(c.forks, Some(30));
        assert!(c.become_);
        assert_eq!(c.inventory, Some(PathBuf::from("/p/hosts.ini")));
        assert_eq!(c.host_defaults["ansible_ssh_args"], "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
        assert!(c.gather_by_default);
    }

    #[test]
    fn bad_values_name_the_line() {
        let e = parse("[defaults]\nforks = lots\n", Path::new("a.cfg")).unwrap_err().to_string();
        assert!(e.contains("a.cfg:2:9") && e.contains("positive number"), "{e}");
        assert!(parse("[privilege_escalation]\nbecome_method = su\n", Path::new("a.cfg")).unwrap_err().to_string().contains("only sudo"));
        assert!(parse("[defaults\n", Path::new("a.cfg")).is_err());
    }
}
