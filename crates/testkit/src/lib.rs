//! Test support (dev-only): real OpenSSH servers on loopback for tests and benchmarks (no mocks), and
//! the in-process fuzzer the fuzz targets use ([`fuzz`]).
//!
//! `SshdFleet::start(n)` starts `n` hosts. Host `i` (0-based) is named `host{i+1}`, listens on its own
//! loopback address (127.0.0.2, 127.0.0.3, ... — all of 127.0.0.0/8 routes to `lo`) on a free port,
//! with its own ed25519 host key, and lets `root` in with the fleet's client key. One sshd process per
//! host (OpenSSH accepts at most 16 ListenAddress per process, and per-host processes let a test stop,
//! restart or reconfigure one host). Everything lives in a temp dir; all sshd processes and their
//! session children are killed on Drop.
//!
//! Files in `fleet.dir`: `client_key` (+`.pub`), `authorized_keys`, `known_hosts` (all hosts, as
//! `[127.0.0.x]:port ssh-ed25519 ...`), `ssh_config` (a `Host hostN` block per host with HostName,
//! Port, User root, IdentityFile, UserKnownHostsFile, IdentitiesOnly), `hostN_key`, `hostN.sshd_config`,
//! `hostN.log` (sshd -e output).
#![allow(clippy::disallowed_methods)] // test support: files in a throwaway temp dir, fuzz failures
pub mod fuzz;
use mdxconf_transport::{HostKeyPolicy, SshTarget};
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One sshd.
#[derive(Debug, Clone)]
pub struct SshdHost {
    /// `host1`, `host2`, ... (the `Host` alias in the fleet's ssh_config)
    pub name: String,
    /// `127.0.0.2`, `127.0.0.3`, ...
    pub address: String,
    pub port: u16,
    /// Always `root`.
    pub user: String,
    /// The host's private host key file.
    pub host_key_path: PathBuf,
    /// `ssh-ed25519 AAAA...` (no comment)
    pub host_public_key: String,
    /// sshd's generated config and log (stderr with LogLevel as configured).
    pub sshd_config_path: PathBuf,
    pub log_path: PathBuf,
}

/// Options for [`SshdFleet::start_with`].
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub hosts: usize,
    /// Extra sshd_config lines for every host. They come before the fleet's defaults, so they
    /// override them (sshd keeps the first value of a keyword), e.g. `UsePAM yes`. No `Match` here.
    pub extra_sshd_config: String,
    /// Extra sshd_config lines per host index (also before the defaults).
    pub host_extra_sshd_config: HashMap<usize, String>,
    /// `Match` blocks, appended after everything else.
    pub sshd_match_blocks: String,
    /// Write every host's key into `known_hosts` (default true; false to test unknown-host handling).
    pub populate_known_hosts: bool,
    /// sshd LogLevel (default ERROR; VERBOSE logs each login with its source address and port).
    pub log_level: String,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            hosts: 1,
            extra_sshd_config: String::new(),
            host_extra_sshd_config: HashMap::new(),
            sshd_match_blocks: String::new(),
            populate_known_hosts: true,
            log_level: "ERROR".into(),
        }
    }
}

pub struct SshdFleet {
    pub hosts: Vec<SshdHost>,
    /// Temp dir holding all files (removed on Drop).
    pub dir: PathBuf,
    /// Client private key (ed25519, no passphrase) authorized for root on every host.
    pub client_key: PathBuf,
    pub known_hosts: PathBuf,
    pub ssh_config: PathBuf,
    children: Mutex<Vec<Option<Child>>>,
    _tmp: tempfile::TempDir,
}

/// Loopback address of host index `i`: 127.0.0.2 upward, skipping .0 and .255 in the last octet.
pub fn host_address(i: usize) -> String {
    let k = i + 2;
    let (hi, lo) = (k / 254, k % 254);
    let lo = if hi == 0 { lo } else { lo + 1 };
    let (mid, top) = (hi % 256, hi / 256);
    format!("127.{}.{}.{}", top, mid, lo)
}

fn free_port(addr: &str) -> io::Result<u16> {
    Ok(TcpListener::bind((addr, 0))?.local_addr()?.port())
}

/// Generate ed25519 keys in-process (`ssh-keygen` per host costs a process spawn each: at 500 hosts on
/// a loaded machine that was tens of seconds). Files are OpenSSH format, mode 0600, plus `.pub`.
fn keygen_many(paths: &[PathBuf]) -> io::Result<()> {
    use russh::keys::ssh_key::{Algorithm, LineEnding, PrivateKey};
    for p in paths {
        let _ = std::fs::remove_file(p);
        let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).map_err(io::Error::other)?;
        key.write_openssh_file(p, LineEnding::LF).map_err(io::Error::other)?;
        let public = key.public_key().to_openssh().map_err(io::Error::other)?;
        let mut pubp = p.as_os_str().to_owned();
        pubp.push(".pub");
        std::fs::write(PathBuf::from(pubp), public + "\n")?;
    }
    Ok(())
}

fn pub_line(path: &Path) -> io::Result<String> {
    let mut p = path.as_os_str().to_owned();
    p.push(".pub");
    let text = std::fs::read_to_string(PathBuf::from(p))?;
    let mut parts = text.split_whitespace();
    Ok(format!("{} {}", parts.next().unwrap_or(""), parts.next().unwrap_or("")))
}

impl SshdFleet {
    /// `n` hosts with default options.
    pub fn start(n: usize) -> io::Result<SshdFleet> {
        SshdFleet::start_with(FleetOptions { hosts: n, ..Default::default() })
    }

    pub fn start_with(opts: FleetOptions) -> io::Result<SshdFleet> {
        mdxconf_transport::raise_nofile_limit();
        std::fs::create_dir_all("/run/sshd")?; // sshd's privilege separation directory
        let tmp = tempfile::Builder::new().prefix("mdxconf-sshd-").tempdir()?;
        let dir = tmp.path().to_path_buf();
        let client_key = dir.join("client_key");
        let host_keys: Vec<PathBuf> = (0..opts.hosts).map(|i| dir.join(format!("host{}_key", i + 1))).collect();
        let mut all_keys = host_keys.clone();
        all_keys.push(client_key.clone());
        keygen_many(&all_keys)?;
        let authorized = dir.join("authorized_keys");
        std::fs::write(&authorized, pub_line(&client_key)? + "\n")?;

        let mut hosts = Vec::with_capacity(opts.hosts);
        for (i, key) in host_keys.iter().enumerate() {
            let name = format!("host{}", i + 1);
            hosts.push(SshdHost {
                address: host_address(i),
                port: 0,
                user: "root".into(),
                host_key_path: key.clone(),
                host_public_key: pub_line(key)?,
                sshd_config_path: dir.join(format!("{name}.sshd_config")),
                log_path: dir.join(format!("{name}.log")),
                name,
            });
        }
        let fleet = SshdFleet {
            hosts,
            known_hosts: dir.join("known_hosts"),
            ssh_config: dir.join("ssh_config"),
            client_key,
            dir,
            children: Mutex::new((0..opts.hosts).map(|_| None).collect()),
            _tmp: tmp,
        };
        let mut fleet = fleet;
        // Start all, then wait for all: sshd start-up overlaps.
        let mut last_err: Option<io::Error> = None;
        for _attempt in 0..5 {
            let pending: Vec<usize> = {
                let kids = fleet.children.lock().unwrap();
                (0..fleet.hosts.len()).filter(|i| kids[*i].is_none()).collect()
            };
            if pending.is_empty() {
                break;
            }
            for &i in &pending {
                fleet.hosts[i].port = free_port(&fleet.hosts[i].address)?;
                fleet.write_sshd_config(i, &opts)?;
                let child = fleet.spawn(i)?;
                fleet.children.lock().unwrap()[i] = Some(child);
            }
            for &i in &pending {
                if let Err(e) = fleet.wait_ready(i, Duration::from_secs(15)) {
                    last_err = Some(e);
                }
            }
            // Another test process may have probed the same free port on the same address: one sshd
            // then fails to bind and exits, while the readiness probe reached the other one. So check
            // that ours are still alive a moment later, and restart the dead ones on new ports.
            std::thread::sleep(Duration::from_millis(150));
            let mut kids = fleet.children.lock().unwrap();
            for &i in &pending {
                let dead = match kids[i].as_mut() {
                    Some(c) => !matches!(c.try_wait(), Ok(None)),
                    None => true,
                };
                if dead {
                    if let Some(mut c) = kids[i].take() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                }
            }
        }
        if fleet.children.lock().unwrap().iter().any(Option::is_none) {
            return Err(last_err.unwrap_or_else(|| io::Error::other("some sshd processes did not stay up")));
        }
        fleet.write_client_files(opts.populate_known_hosts)?;
        Ok(fleet)
    }

    /// `SetEnv SHLVL=1`: Debian's bash sources ~/.bashrc for non-interactive commands run by sshd
    /// unless it is a nested shell; this machine's root .bashrc runs `pyenv init`, which would add
    /// ~0.5 s to every command. Real VMs' .bashrc returns early for non-interactive shells; this
    /// gives the test hosts the same behaviour (for mdxconf and Ansible alike).
    fn write_sshd_config(&self, i: usize, opts: &FleetOptions) -> io::Result<()> {
        let h = &self.hosts[i];
        let mut cfg = String::new();
        if let Some(extra) = opts.host_extra_sshd_config.get(&i) {
            cfg.push_str(extra);
            cfg.push('\n');
        }
        cfg.push_str(&opts.extra_sshd_config);
        cfg.push('\n');
        cfg += &format!(
            "ListenAddress {addr}:{port}\nHostKey {key}\nPidFile none\nUsePAM no\nPermitRootLogin prohibit-password\n\
             StrictModes no\nMaxSessions 100\nMaxStartups 1000:30:1000\nLogLevel {level}\nAuthorizedKeysFile {ak}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUseDNS no\n\
             PrintMotd no\nAllowTcpForwarding yes\nSubsystem sftp internal-sftp\nSetEnv SHLVL=1\n",
            addr = h.address,
            port = h.port,
            key = h.host_key_path.display(),
            level = opts.log_level,
            ak = self.dir.join("authorized_keys").display(),
        );
        cfg.push_str(&opts.sshd_match_blocks);
        cfg.push('\n');
        std::fs::write(&h.sshd_config_path, cfg)
    }

    fn spawn(&self, i: usize) -> io::Result<Child> {
        let h = &self.hosts[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&h.log_path)?;
        Command::new("/usr/sbin/sshd").arg("-D").arg("-e").arg("-f").arg(&h.sshd_config_path).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn()
    }

    fn wait_ready(&self, i: usize, timeout: Duration) -> io::Result<()> {
        let h = &self.hosts[i];
        let addr: SocketAddr = format!("{}:{}", h.address, h.port).parse().map_err(io::Error::other)?;
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            let exited = {
                let mut kids = self.children.lock().unwrap();
                match kids[i].as_mut() {
                    Some(c) => c.try_wait()?.is_some(),
                    None => true,
                }
            };
            if exited || start.elapsed() > timeout {
                let log = std::fs::read_to_string(&h.log_path).unwrap_or_default();
                return Err(io::Error::other(format!("sshd for {} on {addr} did not start: {}", h.name, log.trim())));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn write_client_files(&self, populate_known_hosts: bool) -> io::Result<()> {
        let mut kh = String::new();
        let mut cfg = String::new();
        for h in &self.hosts {
            if populate_known_hosts {
                kh.push_str(&self.known_hosts_line(h));
            }
            cfg.push_str(&format!(
                "Host {}\n    HostName {}\n    Port {}\n    User {}\n    IdentityFile {}\n    UserKnownHostsFile {}\n    IdentitiesOnly yes\n\n",
                h.name,
                h.address,
                h.port,
                h.user,
                self.client_key.display(),
                self.known_hosts.display()
            ));
        }
        std::fs::write(&self.known_hosts, kh)?;
        std::fs::write(&self.ssh_config, cfg)
    }

    /// `[127.0.0.x]:port ssh-ed25519 AAAA...\n` — the known_hosts line for `h`.
    pub fn known_hosts_line(&self, h: &SshdHost) -> String {
        format!("[{}]:{} {}\n", h.address, h.port, h.host_public_key)
    }

    /// A fully explicit target for host `i` (address, port, user, client key, the fleet's
    /// known_hosts, strict host key checking). Its `ssh_config` points at an empty file, so
    /// the user's ~/.ssh/config cannot interfere.
    pub fn target(&self, i: usize) -> SshTarget {
        let h = &self.hosts[i];
        let empty = self.dir.join("empty_ssh_config");
        if !empty.exists() {
            let _ = std::fs::write(&empty, "");
        }
        SshTarget {
            name: h.name.clone(),
            address: Some(h.address.clone()),
            port: Some(h.port),
            user: Some(h.user.clone()),
            identity_files: vec![self.client_key.clone()],
            password: None,
            proxy_jump: None,
            ssh_config: Some(empty),
            known_hosts: Some(self.known_hosts.clone()),
            host_key_policy: HostKeyPolicy::Strict,
            connect_timeout: Some(Duration::from_secs(10)),
        }
    }

    /// A target that names only the alias `hostN` and the fleet's ssh_config: everything else
    /// (HostName, Port, User, IdentityFile, UserKnownHostsFile) comes from ssh_config resolution.
    pub fn target_via_config(&self, i: usize) -> SshTarget {
        SshTarget { name: self.hosts[i].name.clone(), ssh_config: Some(self.ssh_config.clone()), ..Default::default() }
    }

    /// Ansible INI inventory of all hosts in group `group` (ansible_host/port/user/private key).
    pub fn inventory_ini(&self, group: &str) -> String {
        let mut s = format!("[{group}]\n");
        for h in &self.hosts {
            s.push_str(&format!(
                "{} ansible_host={} ansible_port={} ansible_user={} ansible_ssh_private_key_file={}\n",
                h.name,
                h.address,
                h.port,
                h.user,
                self.client_key.display()
            ));
        }
        s
    }

    /// sshd pid of host `i` (None if stopped).
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.children.lock().unwrap()[i].as_ref().map(|c| c.id())
    }

    /// Stop host `i`'s sshd and drop its open sessions (like a host going down).
    pub fn stop_host(&self, i: usize) {
        let child = self.children.lock().unwrap()[i].take();
        if let Some(mut c) = child {
            kill_tree(c.id(), &process_tree());
            let _ = c.wait();
        }
    }

    /// Start host `i` again on the same address, port and host key (e.g. after `stop_host`).
    pub fn start_host(&self, i: usize) -> io::Result<()> {
        self.stop_host(i);
        let child = self.spawn(i)?;
        self.children.lock().unwrap()[i] = Some(child);
        self.wait_ready(i, Duration::from_secs(15))
    }

    /// Append text to the fleet's known_hosts file (tests of changed keys etc.).
    pub fn append_known_hosts(&self, text: &str) -> io::Result<()> {
        std::fs::OpenOptions::new().append(true).create(true).open(&self.known_hosts)?.write_all(text.as_bytes())
    }
}

/// Parent -> children map from /proc (sshd's per-connection processes call setsid(), so a
/// process group kill would miss them).
fn process_tree() -> HashMap<u32, Vec<u32>> {
    let mut map: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(rd) = std::fs::read_dir("/proc") else { return map };
    for e in rd.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        // "pid (comm) state ppid ..." — comm may contain spaces, so parse after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse::<u32>().ok()) {
            map.entry(ppid).or_default().push(p);
        }
    }
    map
}

fn kill_tree(pid: u32, tree: &HashMap<u32, Vec<u32>>) {
    for c in tree.get(&pid).into_iter().flatten() {
        kill_tree(*c, tree);
    }
    // SAFETY: sending a signal to a pid we started (or its descendants).
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
}

impl Drop for SshdFleet {
    fn drop(&mut self) {
        let kids: Vec<Child> = self.children.lock().map(|mut k| k.iter_mut().filter_map(Option::take).collect()).unwrap_or_default();
        let tree = process_tree();
        for c in &kids {
            kill_tree(c.id(), &tree);
        }
        for mut c in kids {
            let _ = c.wait();
        }
    }
}
