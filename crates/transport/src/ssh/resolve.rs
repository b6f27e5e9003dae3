//! Turn an `SshTarget` (+ ssh_config) into concrete endpoints: the target and its ProxyJump chain.
use crate::known_hosts::host_port;
use crate::sshconfig::{expand_tilde, HostConfig, SshConfig};
use crate::{HostKeyPolicy, SshTarget};
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(15);

/// One SSH server to authenticate against (a jump host or the target itself).
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// What the user called it (inventory name or jump spec), for messages.
    pub label: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<PathBuf>,
    /// Identity files named by the user (a missing one is reported) rather than ~/.ssh defaults.
    pub explicit_identities: bool,
    pub identities_only: bool,
    pub password: Option<String>,
    /// Files read for host keys; new keys are appended to the first.
    pub known_hosts: Vec<PathBuf>,
    /// Name looked up in known_hosts (`host` or `[host]:port`).
    pub known_hosts_name: String,
    /// Name a host certificate must list among its principals: HostKeyAlias, else the host (no port).
    pub cert_principal: String,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub keepalive: Duration,
}

impl Endpoint {
    /// Identity for cache keys and messages: user@host:port.
    pub fn spec(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

/// The target plus the hops to reach it, first hop first.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub jumps: Vec<Endpoint>,
    pub target: Endpoint,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"))
}

fn policy_from(cfg: &HostConfig, base: HostKeyPolicy) -> HostKeyPolicy {
    if base == HostKeyPolicy::AcceptNew {
        return base;
    }
    match cfg.strict_host_key_checking.as_deref() {
        // "no" would also accept changed keys in OpenSSH; we never do that, new keys only.
        Some("accept-new") | Some("no") | Some("off") => HostKeyPolicy::AcceptNew,
        _ => HostKeyPolicy::Strict,
    }
}

struct Overrides<'a> {
    user: Option<&'a str>,
    port: Option<u16>,
    identity_files: &'a [PathBuf],
    fallback_identities: &'a [PathBuf],
    password: Option<&'a str>,
}

fn endpoint(label: &str, alias: &str, cfg: &HostConfig, t: &SshTarget, o: Overrides) -> Endpoint {
    let host = cfg.hostname.clone().unwrap_or_else(|| alias.to_string());
    let port = o.port.or(cfg.port).unwrap_or(22);
    let user = o.user.map(str::to_string).or_else(|| cfg.user.clone()).unwrap_or_else(crate::process::current_user);
    let (mut identity_files, explicit) = if !o.identity_files.is_empty() {
        (o.identity_files.iter().map(|p| expand_tilde(&p.to_string_lossy())).collect(), true)
    } else if !cfg.identity_files.is_empty() {
        (cfg.identity_files.clone(), true)
    } else {
        let d = home().join(".ssh");
        (vec![d.join("id_ed25519"), d.join("id_ecdsa"), d.join("id_rsa")], false)
    };
    for f in o.fallback_identities {
        if !identity_files.contains(f) {
            identity_files.push(f.clone());
        }
    }
    let known_hosts = if let Some(k) = &t.known_hosts {
        vec![k.clone()]
    } else if !cfg.user_known_hosts_files.is_empty() {
        cfg.user_known_hosts_files.clone()
    } else {
        let d = home().join(".ssh");
        vec![d.join("known_hosts"), d.join("known_hosts2"), PathBuf::from("/etc/ssh/ssh_known_hosts")]
    };
    // OpenSSH looks a HostKeyAlias up as-is (no [..]:port decoration).
    let known_hosts_name = cfg.host_key_alias.clone().unwrap_or_else(|| host_port(&host, port));
    let cert_principal = cfg.host_key_alias.clone().unwrap_or_else(|| host.clone());
    Endpoint {
        label: label.to_string(),
        known_hosts_name,
        cert_principal,
        host,
        port,
        user,
        identity_files,
        explicit_identities: explicit,
        identities_only: cfg.identities_only.unwrap_or(false),
        password: o.password.map(str::to_string),
        known_hosts,
        policy: policy_from(cfg, t.host_key_policy),
        connect_timeout: t.connect_timeout.or(cfg.connect_timeout.map(Duration::from_secs)).unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        keepalive: cfg.server_alive_interval.filter(|s| *s > 0).map(Duration::from_secs).unwrap_or(DEFAULT_KEEPALIVE),
    }
}

/// `[ssh://][user@]host[:port]`, host may be `[v6addr]`.
fn parse_jump(spec: &str) -> Result<(Option<String>, String, Option<u16>), String> {
    let s = spec.trim().strip_prefix("ssh://").unwrap_or(spec.trim());
    let (user, hp) = match s.rfind('@') {
        Some(i) => (Some(s[..i].to_string()), &s[i + 1..]),
        None => (None, s),
    };
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(|| format!("bad ProxyJump host {spec:?}"))?;
        let port = rest[end + 1..].strip_prefix(':');
        (rest[..end].to_string(), port)
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hp.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().map_err(|_| format!("bad port in ProxyJump {spec:?}"))?),
        None => None,
    };
    if host.is_empty() {
        return Err(format!("empty host in ProxyJump {spec:?}"));
    }
    Ok((user, host, port))
}

/// Resolve a ProxyJump value into hops. The first hop's own ProxyJump (from ssh_config) is followed,
/// later hops are reached through the earlier ones — the same as `ssh -J a,b`.
fn resolve_chain(spec: &str, cfg: &SshConfig, t: &SshTarget, depth: usize) -> Result<Vec<Endpoint>, String> {
    if depth > 8 {
        return Err(format!("ProxyJump chain too long or looping at {spec:?}"));
    }
    let mut hops = Vec::new();
    for (i, part) in spec.split(',').enumerate() {
        let (user, alias, port) = parse_jump(part)?;
        let hc = cfg.resolve(&alias);
        if i == 0 {
            if let Some(pj) = hc.proxy_jump.as_deref().filter(|p| !p.eq_ignore_ascii_case("none")) {
                hops.extend(resolve_chain(pj, cfg, t, depth + 1)?);
            }
        }
        let o = Overrides {
            user: user.as_deref(),
            port,
            identity_files: &[],
            // Bastions usually take the same key as the VMs behind them.
            fallback_identities: &t.identity_files,
            password: None,
        };
        hops.push(endpoint(part.trim(), &alias, &hc, t, o));
    }
    Ok(hops)
}

pub(crate) fn resolve(t: &SshTarget) -> Result<Route, String> {
    let cfg_path = t.ssh_config.clone().unwrap_or_else(crate::sshconfig::default_path);
    let cfg = SshConfig::load(&cfg_path)?;
    // Like Ansible (`ssh <ansible_host>`): Host blocks match the address when the inventory sets one,
    // and a HostName there still applies.
    let alias = t.address.as_deref().unwrap_or(&t.name);
    let hc = cfg.resolve(alias);
    let o = Overrides { user: t.user.as_deref(), port: t.port, identity_files: &t.identity_files, fallback_identities: &[], password: t.password.as_deref() };
    let target = endpoint(&t.name, alias, &hc, t, o);
    let pj = t.proxy_jump.clone().or(hc.proxy_jump.clone());
    let jumps = match pj.as_deref() {
        None => Vec::new(),
        Some(p) if p.trim().is_empty() || p.eq_ignore_ascii_case("none") => Vec::new(),
        Some(p) => resolve_chain(p, &cfg, t, 0)?,
    };
    Ok(Route { jumps, target })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;

    #[test]
    fn jump_specs() {
        assert_eq!(parse_jump("bastion").unwrap(), (None, "bastion".into(), None));
        assert_eq!(parse_jump("u@b:2200").unwrap(), (Some("u".into()), "b".into(), Some(2200)));
        assert_eq!(parse_jump("ssh://u@[::1]:22").unwrap(), (Some("u".into()), "::1".into(), Some(22)));
        assert!(parse_jump("b:xx").is_err());
    }

    #[test]
    fn inventory_overrides_config_and_chains_follow_first_hop() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            "Host outer\n HostName 10.9.9.9\n User o\nHost inner\n HostName 10.0.0.1\n ProxyJump outer\n User jumper\n Port 2022\n\
             Host vm1\n HostName 192.168.0.5\n User cfguser\n Port 2200\n ProxyJump inner\n IdentityFile /k/%h\n",
        )
        .unwrap();
        let t = SshTarget { name: "vm1".into(), ssh_config: Some(cfg.clone()), ..Default::default() };
        let r = resolve(&t).unwrap();
        assert_eq!((r.target.host.as_str(), r.target.port, r.target.user.as_str()), ("192.168.0.5", 2200, "cfguser"));
        assert_eq!(r.target.identity_files, vec![PathBuf::from("/k/192.168.0.5")]);
        assert_eq!(r.target.known_hosts_name, "[192.168.0.5]:2200");
        let hops: Vec<String> = r.jumps.iter().map(|e| e.spec()).collect();
        assert_eq!(hops, vec!["o@10.9.9.9:22", "jumper@10.0.0.1:2022"]);

        let t2 = SshTarget { name: "vm1".into(), user: Some("inv".into()), port: Some(22), proxy_jump: Some("none".into()), ssh_config: Some(cfg), ..Default::default() };
        let r2 = resolve(&t2).unwrap();
        assert_eq!((r2.target.port, r2.target.user.as_str()), (22, "inv"));
        assert!(r2.jumps.is_empty());
    }
}
