//! A small ~/.ssh/config reader: the options mdxconf needs, with OpenSSH's semantics
//! (first value obtained wins, IdentityFile accumulates, `Host` patterns with `*` `?` `!`,
//! `Match all` / `Match host`, `Include`). Unknown keywords are ignored, as ssh would ignore
//! options that do not affect us.
use crate::pattern::list_matches;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
enum Criteria {
    /// Lines before the first Host/Match apply to every host.
    Always,
    Host(Vec<String>),
    /// `Match host`: tested against HostName as resolved so far (OpenSSH semantics).
    MatchHost(Vec<String>),
    /// `Match originalhost`: tested against the name given to ssh.
    MatchOriginalHost(Vec<String>),
    /// A Match we cannot evaluate (exec, localuser, ...): never applies.
    Never,
}

#[derive(Debug, Clone)]
struct Block {
    criteria: Criteria,
    options: Vec<(String, Vec<String>)>,
}

/// Parsed ssh_config file (and its Includes).
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

/// Options resolved for one host, before inventory overrides. Tokens (%h %r %u %p %n %d %%) and `~`
/// are already expanded where OpenSSH expands them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: Option<bool>,
    /// Raw ProxyJump value; `none` is kept so callers can tell "explicitly none" from "unset".
    pub proxy_jump: Option<String>,
    pub strict_host_key_checking: Option<String>,
    pub user_known_hosts_files: Vec<PathBuf>,
    pub connect_timeout: Option<u64>,
    pub server_alive_interval: Option<u64>,
    pub host_key_alias: Option<String>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"))
}

/// Default user config path: ~/.ssh/config.
pub fn default_path() -> PathBuf {
    home().join(".ssh/config")
}

/// `~/x` -> `$HOME/x`.
pub fn expand_tilde(s: &str) -> PathBuf {
    if s == "~" {
        home()
    } else if let Some(rest) = s.strip_prefix("~/") {
        home().join(rest)
    } else {
        PathBuf::from(s)
    }
}

/// Split a config line into words, honouring double quotes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in s.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

impl SshConfig {
    /// Read `path`; a missing file is an empty config (ssh behaves the same).
    pub fn load(path: &Path) -> Result<SshConfig, String> {
        let mut cfg = SshConfig::default();
        cfg.blocks.push(Block { criteria: Criteria::Always, options: Vec::new() });
        cfg.read_file(path, 0)?;
        Ok(cfg)
    }

    pub fn parse_str(text: &str, origin: &Path) -> Result<SshConfig, String> {
        let mut cfg = SshConfig::default();
        cfg.blocks.push(Block { criteria: Criteria::Always, options: Vec::new() });
        cfg.parse_into(text, origin, 0)?;
        Ok(cfg)
    }

    fn read_file(&mut self, path: &Path, depth: usize) -> Result<(), String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        self.parse_into(&text, path, depth)
    }

    fn parse_into(&mut self, text: &str, origin: &Path, depth: usize) -> Result<(), String> {
        if depth > 8 {
            return Err(format!("{}: Include nested too deeply", origin.display()));
        }
        for (idx, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // "Keyword value", "Keyword=value" or "Keyword = value"
            let split = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
            let key = line[..split].to_ascii_lowercase();
            let rest = line[split..].trim_start();
            let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
            let args = words(rest);
            let at = || format!("{}:{}", origin.display(), idx + 1);
            match key.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(format!("{}: Host needs at least one pattern", at()));
                    }
                    let pats = args.iter().flat_map(|a| a.split(',')).map(str::to_string).collect();
                    self.blocks.push(Block { criteria: Criteria::Host(pats), options: Vec::new() });
                }
                "match" => {
                    let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
                    let criteria = match lower.as_slice() {
                        [all] if all == "all" => Criteria::Always,
                        [h, _] if h == "host" => Criteria::MatchHost(args[1].split(',').map(str::to_string).collect()),
                        [h, _] if h == "originalhost" => Criteria::MatchOriginalHost(args[1].split(',').map(str::to_string).collect()),
                        _ => {
                            tracing::debug!("{}: Match {:?} not supported, block ignored", at(), args);
                            Criteria::Never
                        }
                    };
                    self.blocks.push(Block { criteria, options: Vec::new() });
                }
                "include" => {
                    // Lines after the Include belong to the block that was open before it, not to the
                    // last Host of the included file.
                    let resume = self.blocks.last().map(|b| b.criteria.clone()).unwrap_or(Criteria::Always);
                    for a in &args {
                        let p = expand_tilde(a);
                        let p = if p.is_absolute() { p } else { home().join(".ssh").join(p) };
                        for f in glob_files(&p) {
                            self.read_file(&f, depth + 1)?;
                        }
                    }
                    self.blocks.push(Block { criteria: resume, options: Vec::new() });
                }
                _ => {
                    if args.is_empty() {
                        return Err(format!("{}: {} needs a value", at(), &line[..split]));
                    }
                    self.blocks.last_mut().expect("initial block").options.push((key, args));
                }
            }
        }
        Ok(())
    }

    /// Resolve options for `host` (the name given to ssh, i.e. the inventory name or address).
    pub fn resolve(&self, host: &str) -> HostConfig {
        let host_lc = host.to_ascii_lowercase();
        let mut hc = HostConfig::default();
        let mut seen: std::collections::HashSet<String> = Default::default();
        let mut identity_raw: Vec<String> = Vec::new();
        let mut known_raw: Option<Vec<String>> = None;
        for b in &self.blocks {
            let applies = match &b.criteria {
                Criteria::Always => true,
                Criteria::Host(p) | Criteria::MatchOriginalHost(p) => list_matches(p.iter().map(String::as_str), &host_lc),
                Criteria::MatchHost(p) => {
                    let current = hc.hostname.clone().unwrap_or_else(|| host_lc.clone());
                    list_matches(p.iter().map(String::as_str), &current)
                }
                Criteria::Never => false,
            };
            if !applies {
                continue;
            }
            for (key, args) in &b.options {
                if key == "identityfile" {
                    identity_raw.push(args[0].clone());
                    continue;
                }
                if !seen.insert(key.clone()) {
                    continue; // first obtained value wins
                }
                let v = args[0].clone();
                match key.as_str() {
                    "hostname" => hc.hostname = Some(v.replace("%h", host).replace("%%", "%")),
                    "user" => hc.user = Some(v),
                    "port" => hc.port = v.parse().ok(),
                    "proxyjump" => hc.proxy_jump = Some(v),
                    "stricthostkeychecking" => hc.strict_host_key_checking = Some(v.to_ascii_lowercase()),
                    "userknownhostsfile" => known_raw = Some(args.clone()),
                    "connecttimeout" => hc.connect_timeout = v.parse().ok(),
                    "serveraliveinterval" => hc.server_alive_interval = v.parse().ok(),
                    "identitiesonly" => hc.identities_only = Some(matches!(v.to_ascii_lowercase().as_str(), "yes" | "true")),
                    "hostkeyalias" => hc.host_key_alias = Some(v),
                    _ => {}
                }
            }
        }
        let remote_host = hc.hostname.clone().unwrap_or_else(|| host.to_string());
        let port = hc.port.unwrap_or(22).to_string();
        let ruser = hc.user.clone().unwrap_or_else(crate::process::current_user);
        let tokens = Tokens { host: &remote_host, alias: host, port: &port, ruser: &ruser };
        hc.identity_files = identity_raw.iter().map(|s| expand_tilde(&tokens.expand(s))).collect();
        if let Some(files) = known_raw {
            hc.user_known_hosts_files = files.iter().filter(|f| *f != "none").map(|s| expand_tilde(&tokens.expand(s))).collect();
        }
        hc
    }
}

struct Tokens<'a> {
    host: &'a str,
    alias: &'a str,
    port: &'a str,
    ruser: &'a str,
}

impl Tokens<'_> {
    fn expand(&self, s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('h') => out.push_str(self.host),
                Some('n') => out.push_str(self.alias),
                Some('p') => out.push_str(self.port),
                Some('r') => out.push_str(self.ruser),
                Some('u') => out.push_str(&crate::process::current_user()),
                Some('d') => out.push_str(&home().to_string_lossy()),
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

/// Expand a trailing-component glob (`conf.d/*.conf`) for Include; sorted like glob(3).
fn glob_files(p: &Path) -> Vec<PathBuf> {
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![p.to_path_buf()];
    }
    let dir = p.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).filter(|e| crate::pattern::glob(&name, &e.file_name().to_string_lossy())).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;

    const CFG: &str = r#"
# global
ServerAliveInterval 15

Host bastion
    HostName 10.0.0.1
    User jump
    IdentityFile ~/.ssh/bastion_%r

Host vm-* !vm-special
    ProxyJump bastion
    User ubuntu
    Port=2222

Host vm-special
    ProxyJump none

Host *
    User fallback
    IdentityFile "/keys/id %h"
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/kh1 /etc/kh2
"#;

    #[test]
    fn resolves_first_value_wins() {
        let c = SshConfig::parse_str(CFG, Path::new("cfg")).unwrap();
        let b = c.resolve("bastion");
        assert_eq!(b.hostname.as_deref(), Some("10.0.0.1"));
        assert_eq!(b.user.as_deref(), Some("jump"));
        assert_eq!(b.identity_files, vec![home().join(".ssh/bastion_jump"), PathBuf::from("/keys/id 10.0.0.1")]);
        assert_eq!(b.server_alive_interval, Some(15));
        assert_eq!(b.proxy_jump, None);

        let v = c.resolve("vm-01");
        assert_eq!(v.proxy_jump.as_deref(), Some("bastion"));
        assert_eq!(v.user.as_deref(), Some("ubuntu"));
        assert_eq!(v.port, Some(2222));
        assert_eq!(v.strict_host_key_checking.as_deref(), Some("accept-new"));
        assert_eq!(v.user_known_hosts_files, vec![home().join("kh1"), PathBuf::from("/etc/kh2")]);

        let s = c.resolve("vm-special");
        assert_eq!(s.proxy_jump.as_deref(), Some("none"));
        assert_eq!(s.user.as_deref(), Some("fallback"));
    }

    #[test]
    fn match_host_sees_the_resolved_hostname() {
        let c = SshConfig::parse_str("Host vm1\n  HostName 10.1.2.3\nMatch host 10.1.*\n  User matched\nMatch originalhost vm1\n  Port 2200\n", Path::new("cfg")).unwrap();
        let r = c.resolve("vm1");
        assert_eq!((r.user.as_deref(), r.port), (Some("matched"), Some(2200)));
        assert_eq!(c.resolve("vm2").user, None);
    }

    #[test]
    fn include_with_glob() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/10-a.conf"), "Host a\n  Port 1001\n").unwrap();
        std::fs::write(dir.path().join("conf.d/20-b.conf"), "Host a b\n  Port 1002\n  User inc\n").unwrap();
        std::fs::write(dir.path().join("conf.d/skip.txt"), "Host a\n  User wrong\n").unwrap();
        let main = dir.path().join("config");
        std::fs::write(&main, format!("Include {}/conf.d/*.conf\nConnectTimeout 7\nHost *\n  User last\n", dir.path().display())).unwrap();
        let c = SshConfig::load(&main).unwrap();
        let a = c.resolve("a");
        assert_eq!((a.port, a.user.as_deref()), (Some(1001), Some("inc")));
        assert_eq!(c.resolve("z").user.as_deref(), Some("last"));
        // Global line after the Include stays global.
        assert_eq!(c.resolve("z").connect_timeout, Some(7));
    }

    #[test]
    fn missing_value_is_an_error_with_line() {
        let e = SshConfig::parse_str("Host a\n  User\n", Path::new("cfg")).unwrap_err();
        assert!(e.contains("cfg:2"), "{e}");
    }
}
