//! Opening a host's (one, persistent) connection from its variables, and the environment wrapper.
use async_trait::async_trait;
use mdxconf_transport::{Connection, ExecOutput, HostKeyPolicy, SshTarget, TransportError};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn var_str(vars: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match vars.get(*k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

fn falsy(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "false" | "no" | "0" | "off" | "n")
}

/// Which kind of connection a host uses (`ansible_connection`, else the play's `connection:`).
pub fn connection_kind(vars: &Map<String, Value>, play_conn: Option<&str>) -> String {
    var_str(vars, &["ansible_connection"]).or_else(|| play_conn.map(str::to_string)).unwrap_or_else(|| "ssh".into())
}

/// The SSH target for a host, from ansible_* variables (already templated).
pub fn ssh_target(name: &str, vars: &Map<String, Value>, accept_new: bool, remote_user: Option<&str>) -> Result<SshTarget, String> {
    let mut t = SshTarget { name: name.to_string(), ..Default::default() };
    t.address = var_str(vars, &["ansible_host", "ansible_ssh_host"]);
    if let Some(p) = var_str(vars, &["ansible_port", "ansible_ssh_port"]) {
        t.port = Some(p.parse().map_err(|_| format!("ansible_port `{p}` is not a port number"))?);
    }
    t.user = var_str(vars, &["ansible_user", "ansible_ssh_user"]).or_else(|| remote_user.map(str::to_string));
    if let Some(k) = var_str(vars, &["ansible_ssh_private_key_file", "ansible_private_key_file"]) {
        t.identity_files.push(expand_home(&k));
    }
    t.password = var_str(vars, &["ansible_password", "ansible_ssh_pass", "ansible_ssh_password"]);
    if let Some(s) = var_str(vars, &["ansible_ssh_timeout", "ansible_timeout"]) {
        if let Ok(secs) = s.parse::<u64>() {
            t.connect_timeout = Some(Duration::from_secs(secs));
        }
    }
    let mut policy = if accept_new { HostKeyPolicy::AcceptNew } else { HostKeyPolicy::Strict };
    let hkc = var_str(vars, &["ansible_ssh_host_key_checking", "ansible_host_key_checking"]).or_else(|| std::env::var("ANSIBLE_HOST_KEY_CHECKING").ok());
    if hkc.as_deref().is_some_and(falsy) {
        policy = HostKeyPolicy::AcceptNew;
    }
    for key in ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"] {
        if let Some(args) = var_str(vars, &[key]) {
            apply_ssh_args(&args, &mut t, &mut policy);
        }
    }
    t.host_key_policy = policy;
    Ok(t)
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// Understand the ssh options inventories use: `-o ProxyJump=x`, `-J x`, `-o ProxyCommand="ssh -W %h:%p bastion"`,
/// `-o UserKnownHostsFile=f`, `-o StrictHostKeyChecking=no|accept-new`, `-p PORT`, `-i KEY`.
pub fn apply_ssh_args(args: &str, t: &mut SshTarget, policy: &mut HostKeyPolicy) {
    let words = shell_words(args);
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let next = words.get(i + 1).cloned();
        let opt = if w == "-o" {
            i += 1;
            next.clone()
        } else {
            w.strip_prefix("-o").map(str::to_string)
        };
        if let Some(o) = opt {
            let (k, v) = o
                .split_once('=')
                .or_else(|| o.split_once(' '))
                .map(|(a, b)| (a.trim().to_ascii_lowercase(), b.trim().to_string()))
                .unwrap_or((o.to_ascii_lowercase(), String::new()));
            match k.as_str() {
                "proxyjump" => t.proxy_jump = Some(v),
                "proxycommand" => {
                    if let Some(j) = proxy_command_jump(&v) {
                        t.proxy_jump = Some(j);
                    }
                }
                "userknownhostsfile" => t.known_hosts = Some(expand_home(&v)),
                "stricthostkeychecking" if falsy(&v) || v.eq_ignore_ascii_case("accept-new") => *policy = HostKeyPolicy::AcceptNew,
                "port" => t.port = v.parse().ok().or(t.port),
                "user" => t.user = Some(v),
                "identityfile" => t.identity_files.push(expand_home(&v)),
                "connecttimeout" => t.connect_timeout = v.parse().ok().map(Duration::from_secs),
                _ => {}
            }
        } else if w == "-J" {
            t.proxy_jump = next;
            i += 1;
        } else if w == "-p" {
            t.port = next.and_then(|p| p.parse().ok()).or(t.port);
            i += 1;
        } else if w == "-i" {
            if let Some(k) = next {
                t.identity_files.push(expand_home(&k));
            }
            i += 1;
        }
        i += 1;
    }
}

/// `ssh -W %h:%p -q user@bastion -p 22` -> `user@bastion:22`.
fn proxy_command_jump(cmd: &str) -> Option<String> {
    let w = shell_words(cmd);
    if !w.first().is_some_and(|c| c.ends_with("ssh")) || !w.iter().any(|x| x == "-W") {
        return None;
    }
    let mut host = None;
    let mut port = None;
    let mut i = 1;
    while i < w.len() {
        match w[i].as_str() {
            "-W" | "-o" | "-i" | "-l" | "-F" => i += 1,
            "-p" => {
                port = w.get(i + 1).cloned();
                i += 1;
            }
            s if s.starts_with('-') => {}
            s => host = Some(s.to_string()),
        }
        i += 1;
    }
    host.map(|h| match port {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

/// Split like a shell (quotes removed).
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut q: Option<char> = None;
    for c in s.chars() {
        match q {
            Some(qc) if c == qc => q = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                q = Some(c);
                have = true;
            }
            None if c.is_whitespace() => {
                if have || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            None => cur.push(c),
        }
    }
    if have || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Open the connection a host's variables ask for.
pub async fn open(name: &str, vars: &Map<String, Value>, play_conn: Option<&str>, remote_user: Option<&str>, accept_new: bool) -> Result<Arc<dyn Connection>, TransportError> {
    match connection_kind(vars, play_conn).as_str() {
        "local" => Ok(mdxconf_transport::local(name)),
        // Ansible's chroot plugin: the chroot directory is ansible_host (else the inventory name).
        "chroot" => {
            let root = var_str(vars, &["ansible_host"]).unwrap_or_else(|| name.to_string());
            Ok(mdxconf_transport::chroot(name, PathBuf::from(root)))
        }
        "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "ansible.builtin.ssh" => {
            let t = ssh_target(name, vars, accept_new, remote_user).map_err(|msg| TransportError::Other { host: name.into(), msg })?;
            mdxconf_transport::connect_ssh(&t).await
        }
        other => Err(TransportError::Other { host: name.into(), msg: format!("unsupported ansible_connection `{other}` (ssh, local, chroot)") }),
    }
}

/// Adds a task's `environment:` to every command. Under sudo the variables go through `env` after
/// sudo (sudo would reset an outer export).
pub struct EnvConnection {
    pub inner: Arc<dyn Connection>,
    /// (name, value) pairs
    pub env: Vec<(String, String)>,
}

const SUDO_PREFIX: &str = "sudo -n -H -u ";

impl EnvConnection {
    fn wrap(&self, cmd: &str) -> String {
        use mdxconf_transport::sh_quote;
        if cmd.starts_with(SUDO_PREFIX) {
            if let Some(pos) = cmd.find(" -- ") {
                let assigns: Vec<String> = self.env.iter().map(|(k, v)| sh_quote(&format!("{k}={v}"))).collect();
                return format!("{} -- env {} {}", &cmd[..pos], assigns.join(" "), &cmd[pos + 4..]);
            }
        }
        let exports: String = self.env.iter().map(|(k, v)| format!("export {k}={}; ", sh_quote(v))).collect();
        format!("{exports}{cmd}")
    }
}

#[async_trait]
impl Connection for EnvConnection {
    fn host(&self) -> &str {
        self.inner.host()
    }
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
        self.inner.exec(&self.wrap(cmd), stdin).await
    }
    fn login_user(&self) -> Option<&str> {
        self.inner.login_user()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn proxy_options() {
        let mut t = SshTarget::default();
        let mut p = HostKeyPolicy::Strict;
        apply_ssh_args("-o ProxyCommand=\"ssh -W %h:%p -q admin@bastion.example -p 2222\" -o StrictHostKeyChecking=no", &mut t, &mut p);
        assert_eq!(t.proxy_jump.as_deref(), Some("admin@bastion.example:2222"));
        assert_eq!(p, HostKeyPolicy::AcceptNew);
        let mut t = SshTarget::default();
        apply_ssh_args("-J jump@10.0.0.1 -oUserKnownHostsFile=/tmp/kh", &mut t, &mut p);
        assert_eq!(t.proxy_jump.as_deref(), Some("jump@10.0.0.1"));
        assert_eq!(t.known_hosts, Some(PathBuf::from("/tmp/kh")));
    }
    #[test]
    fn env_under_sudo() {
        let c = EnvConnection { inner: mdxconf_transport::local("x"), env: vec![("A".into(), "1 2".into())] };
        assert_eq!(c.wrap("sudo -n -H -u root -- /bin/sh -c id"), "sudo -n -H -u root -- env 'A=1 2' /bin/sh -c id");
        assert_eq!(c.wrap("id"), "export A='1 2'; id");
    }
}
