//! First-login password set on mdx VMs (mdxpasswdinit).
//!
//! A fresh mdx VM lets `mdxuser` in with the project's SSH key but the password is expired, so the
//! first login runs `passwd` before any shell. mdxpasswdinit.py answers that forced-change dialog
//! over `ssh` with pexpect; `Method::Prompt` does the same with the system `ssh` client and a
//! forced remote PTY. `Method::Chpasswd` is for hosts without a forced change: it pipes
//! `user:password` into `chpasswd` over an mdxconf SSH connection.
use anyhow::Context;
use mdxconf_config::inventory::Inventory;
use mdxconf_transport::{HostKeyPolicy, SshTarget};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Method {
    Prompt,
    Chpasswd,
}

/// One host to initialize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Inventory name
    pub name: String,
    /// What to connect to (`ansible_host`, else the name)
    pub address: String,
    pub port: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct PasswdInitOptions {
    pub method: Method,
    /// SSH login user
    pub user: String,
    /// Account whose password `chpasswd` sets
    pub for_user: String,
    pub new_password: String,
    /// Answer for a "Current password:" prompt, if the host asks for one
    pub current_password: Option<String>,
    pub timeout: Duration,
    pub ssh_args: Vec<String>,
    pub identity_files: Vec<PathBuf>,
    /// Host keys are checked against this file (default ~/.ssh/known_hosts), for both methods.
    pub known_hosts: Option<PathBuf>,
    /// Unknown hosts are learned (OpenSSH's accept-new); a known host with another key is still
    /// refused. Off: only hosts already in known_hosts are sent a password.
    pub accept_new_host_keys: bool,
}

/// The known_hosts file host keys are checked against.
pub fn known_hosts_path(opts: &PasswdInitOptions) -> PathBuf {
    opts.known_hosts.clone().unwrap_or_else(|| {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        PathBuf::from(home).join(".ssh").join("known_hosts")
    })
}

/// Hosts of `group` in an inventory, with their connection address and port.
pub fn targets_from_inventory(path: &Path, group: &str) -> anyhow::Result<Vec<Target>> {
    let inv = Inventory::load(path)?;
    if !inv.groups.contains_key(group) {
        anyhow::bail!("no group '{group}' found in '{}'", path.display());
    }
    let mut out = Vec::new();
    for name in inv.hosts_matching(group) {
        let vars = inv.host_vars(&name);
        let address = vars.get("ansible_host").and_then(value_str).unwrap_or_else(|| name.clone());
        let port = match vars.get("ansible_port").and_then(value_str) {
            Some(p) => Some(p.parse::<u16>().with_context(|| format!("{}: host {name}: ansible_port '{p}' is not a port", path.display()))?),
            None => None,
        };
        out.push(Target { name, address, port });
    }
    Ok(out)
}

fn value_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Initialize every target, at most `forks` at once. Results are in target order.
pub fn run_all(targets: &[Target], opts: &PasswdInitOptions, forks: usize) -> Vec<(String, Result<(), String>)> {
    let mut results = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(forks.max(1)) {
        let chunk_results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk.iter().map(|t| s.spawn(move || (t.name.clone(), init_one(t, opts)))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| (String::new(), Err("worker panicked".into())))).collect()
        });
        results.extend(chunk_results);
    }
    results
}

pub fn init_one(t: &Target, opts: &PasswdInitOptions) -> Result<(), String> {
    match opts.method {
        Method::Prompt => set_by_prompt(t, opts),
        Method::Chpasswd => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            rt.block_on(set_by_chpasswd(t, opts))
        }
    }
}

/// `chpasswd` over an mdxconf SSH connection; `sudo -n` unless the login user is root.
pub async fn set_by_chpasswd(t: &Target, opts: &PasswdInitOptions) -> Result<(), String> {
    if opts.for_user.contains([':', '\n']) || opts.new_password.contains('\n') {
        return Err("user name or password contains ':' or a newline, which chpasswd cannot take".into());
    }
    let target = SshTarget {
        name: t.name.clone(),
        address: Some(t.address.clone()),
        port: t.port,
        user: Some(opts.user.clone()),
        identity_files: opts.identity_files.clone(),
        known_hosts: Some(known_hosts_path(opts)),
        host_key_policy: if opts.accept_new_host_keys { HostKeyPolicy::AcceptNew } else { HostKeyPolicy::Strict },
        connect_timeout: Some(opts.timeout),
        ..Default::default()
    };
    let conn = mdxconf_transport::connect_ssh(&target).await.map_err(|e| e.to_string())?;
    let cmd = if opts.user == "root" { "chpasswd" } else { "sudo -n chpasswd" };
    let input = format!("{}:{}\n", opts.for_user, opts.new_password).into_bytes();
    let out = conn.exec(cmd, Some(input)).await.map_err(|e| e.to_string());
    conn.close().await;
    let out = out?;
    if out.rc != 0 {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{cmd} failed (rc {}): {}", out.rc, err.trim()));
    }
    Ok(())
}

/// The fingerprints known_hosts holds for `t` (`ssh-keygen -l -F`), to show what was learned.
pub fn fingerprints(known_hosts: &Path, t: &Target) -> Vec<String> {
    let host = match t.port {
        Some(p) if p != 22 => format!("[{}]:{p}", t.address),
        _ => t.address.clone(),
    };
    let out = Command::new("ssh-keygen").arg("-l").arg("-F").arg(&host).arg("-f").arg(known_hosts).output();
    let Ok(out) = out else { return vec![] };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect()
}

/// What the remote `passwd` dialog said, in the order it can happen.
#[derive(Debug, PartialEq, Eq)]
enum Prompt {
    Current,
    New,
    Retype,
    Updated,
    Failed(String),
}

/// Find the first dialog event in `buf`; returns it with the byte offset just past it.
fn next_prompt(buf: &str) -> Option<(Prompt, usize)> {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(concat!(
            r"(?i)(?P<retype>(retype|re-enter|repeat) new( unix)? password: ?)",
            r"|(?P<new>new( unix)? password: ?)",
            r"|(?P<current>(\(current\) unix password|current password): ?)",
            r"|(?P<updated>(password updated successfully|all authentication tokens updated successfully))",
            r"|(?P<failed>[^\r\n]*(authentication token manipulation error|password unchanged|passwords do not match|sorry, passwords do not match|bad password[^\r\n]*|have exhausted maximum number of retries|permission denied[^\r\n]*|host key verification failed[^\r\n]*|remote host identification has changed[^\r\n]*|no [a-z0-9-]+ host key is known for[^\r\n]*))",
        ))
        .expect("static regex")
    });
    let c = re.captures(buf)?;
    let m = c.get(0)?;
    let p = if c.name("retype").is_some() {
        Prompt::Retype
    } else if c.name("new").is_some() {
        Prompt::New
    } else if c.name("current").is_some() {
        Prompt::Current
    } else if c.name("updated").is_some() {
        Prompt::Updated
    } else {
        Prompt::Failed(m.as_str().trim().to_string())
    };
    Some((p, m.end()))
}

/// Answer the forced password change the way mdxpasswdinit.py does: `ssh -tt` (remote PTY, so PAM
/// prompts), then expect/send on the session. Unlike mdxpasswdinit.py, the host key is checked
/// (known_hosts, accept-new only when asked): the new password must not go to an impostor. These
/// options come before --ssh-args, and ssh keeps the first value of an option, so extra arguments
/// cannot turn the check off.
pub fn set_by_prompt(t: &Target, opts: &PasswdInitOptions) -> Result<(), String> {
    let known_hosts = known_hosts_path(opts);
    if let Some(d) = known_hosts.parent() {
        if !d.exists() {
            std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700));
        }
    }
    let strict = if opts.accept_new_host_keys { "accept-new" } else { "yes" };
    let mut cmd = Command::new("ssh");
    cmd.arg("-tt")
        .arg("-o")
        .arg(format!("StrictHostKeyChecking={strict}"))
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no", "-o", "PreferredAuthentications=publickey"])
        .args(["-o", "BatchMode=no", "-o", "LogLevel=ERROR"])
        .arg("-o")
        .arg(format!("ConnectTimeout={}", opts.timeout.as_secs().max(1)));
    for id in &opts.identity_files {
        cmd.arg("-i").arg(id);
    }
    if let Some(p) = t.port {
        cmd.arg("-p").arg(p.to_string());
    }
    cmd.args(&opts.ssh_args).arg("-l").arg(&opts.user).arg(&t.address);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    for stream in [Box::new(child.stdout.take().expect("piped")) as Box<dyn Read + Send>, Box::new(child.stderr.take().expect("piped"))] {
        let tx = tx.clone();
        std::thread::spawn(move || pump(stream, tx));
    }
    drop(tx);

    let result = dialog(&rx, &mut stdin, opts);
    drop(stdin);
    // The session ends by itself after passwd; don't wait on a host that keeps it open.
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn pump(mut r: Box<dyn Read + Send>, tx: mpsc::Sender<Option<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = tx.send(None);
                return;
            }
            Ok(n) => {
                if tx.send(Some(buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
}

/// Printed by the probe command sent once the dialog went quiet after the retype; the PTY echo of
/// the command itself reads `MDXCONF_PW''INIT_OK`, so only real shell output matches.
const DONE_MARKER: &str = "MDXCONF_PWINIT_OK";
const PROBE: &str = "echo MDXCONF_PW''INIT_OK; exit\n";
/// How long the session must stay quiet after the retype before the probe is sent.
const QUIET: Duration = Duration::from_secs(2);

fn dialog(rx: &mpsc::Receiver<Option<Vec<u8>>>, stdin: &mut impl Write, opts: &PasswdInitOptions) -> Result<(), String> {
    let mut seen = String::new(); // everything received, for error messages
    let mut pending = String::new(); // not yet matched
    let mut closed_streams = 0;
    let mut sent_new = false;
    // After the retype: sshd without PAM runs passwd(1), which prints "updated successfully";
    // with PAM, sshd changes the token itself and goes straight on to the shell, silently.
    let mut retyped_at: Option<Instant> = None;
    let mut probe_sent = false;
    let mut last_output = Instant::now();
    let mut deadline = Instant::now() + opts.timeout;
    let tail = |s: &str| {
        let s = s.trim();
        let start = s.char_indices().rev().nth(99).map(|(i, _)| i).unwrap_or(0);
        s[start..].replace(['\r', '\n'], " ")
    };
    let send = |stdin: &mut dyn Write, text: &str| stdin.write_all(text.as_bytes()).and_then(|_| stdin.flush()).map_err(|e| format!("ssh closed its input: {e}"));
    loop {
        if probe_sent && pending.contains(DONE_MARKER) {
            return Ok(());
        }
        while let Some((p, end)) = next_prompt(&pending) {
            pending.drain(..end);
            deadline = Instant::now() + opts.timeout;
            let answer = match p {
                Prompt::Current => match &opts.current_password {
                    Some(c) => c.clone(),
                    None => return Err("the host asks for the current password (pass --current-password-env)".into()),
                },
                Prompt::New => {
                    sent_new = true;
                    retyped_at = None;
                    opts.new_password.clone()
                }
                Prompt::Retype => {
                    retyped_at = Some(Instant::now());
                    opts.new_password.clone()
                }
                Prompt::Updated => return Ok(()),
                Prompt::Failed(line) => return Err(line),
            };
            send(stdin, &format!("{answer}\n"))?;
        }
        let now = Instant::now();
        if let Some(t) = retyped_at {
            if !probe_sent && now.duration_since(t.max(last_output)) >= QUIET {
                send(stdin, PROBE)?;
                probe_sent = true;
                deadline = now + opts.timeout;
            }
        }
        if now >= deadline {
            return Err(format!("timed out waiting for {} (last output: {})", if sent_new { "passwd to finish" } else { "'New password:'" }, tail(&seen)));
        }
        let wait = if retyped_at.is_some() && !probe_sent { QUIET.min(deadline - now) } else { deadline - now };
        match rx.recv_timeout(wait) {
            Ok(Some(bytes)) => {
                let s = String::from_utf8_lossy(&bytes);
                seen.push_str(&s);
                pending.push_str(&s);
                last_output = Instant::now();
            }
            Ok(None) => {
                closed_streams += 1;
                if closed_streams == 2 {
                    if probe_sent && pending.contains(DONE_MARKER) {
                        return Ok(());
                    }
                    return Err(format!("connection closed before the password was updated (last output: {})", tail(&seen)));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(format!("connection closed before the password was updated (last output: {})", tail(&seen)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_pam_dialog() {
        let s = "WARNING: Your password has expired.\r\nYou must change your password now and login again!\r\nCurrent password: ";
        assert_eq!(next_prompt(s).unwrap().0, Prompt::Current);
        assert_eq!(next_prompt("New password: ").unwrap().0, Prompt::New);
        assert_eq!(next_prompt("Retype new password: ").unwrap().0, Prompt::Retype);
        assert_eq!(next_prompt("\r\npasswd: password updated successfully\r\n").unwrap().0, Prompt::Updated);
        assert_eq!(next_prompt("(current) UNIX password: ").unwrap().0, Prompt::Current);
        assert!(matches!(next_prompt("passwd: Authentication token manipulation error\r\n").unwrap().0, Prompt::Failed(_)));
        assert!(next_prompt("Last login: today").is_none());
    }
}
