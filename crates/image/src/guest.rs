//! Commands inside a guest over its forwarded SSH port, through mdxconf-transport (russh, the engine's
//! transport): one connection per guest, one channel per command, the build's own key and known_hosts
//! file (never the user's ~/.ssh: forwarded ports are reused). No ssh client process is involved, so
//! nothing outlives an interrupted build.
use crate::qemu::Vm;
use anyhow::{bail, Context, Result};
use mdxconf_transport::{Connection, HostKeyPolicy, SshTarget};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::process::Command;

/// Seconds for TCP connect + SSH handshake + authentication (an emulated guest under load is slow).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Guest {
    /// Loopback address the guest's SSH is forwarded from.
    pub addr: String,
    pub port: u16,
    pub user: String,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    /// AcceptNew for build and lab VMs (their keys are learned at first contact on a forwarded port
    /// nobody else uses); Strict where the keys are known beforehand (from the console of a deployed VM).
    pub policy: HostKeyPolicy,
    /// The shared connection, opened on first use and re-opened after the guest rebooted.
    conn: Arc<tokio::sync::Mutex<Option<Arc<dyn Connection>>>>,
}

impl std::fmt::Debug for Guest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guest")
            .field("addr", &self.addr)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("key", &self.key)
            .field("known_hosts", &self.known_hosts)
            .finish()
    }
}

pub struct Output {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Guest {
    pub fn new(port: u16, user: &str, key: PathBuf, known_hosts: PathBuf) -> Guest {
        Guest { addr: "127.0.0.1".into(), port, user: user.into(), key, known_hosts, policy: HostKeyPolicy::AcceptNew, conn: Arc::default() }
    }

    /// A guest reached at `addr:port` whose host keys must already be in `known_hosts`.
    pub fn strict(addr: &str, port: u16, user: &str, key: PathBuf, known_hosts: PathBuf) -> Guest {
        Guest { addr: addr.into(), policy: HostKeyPolicy::Strict, ..Guest::new(port, user, key, known_hosts) }
    }

    fn target(&self) -> Result<SshTarget> {
        Ok(SshTarget {
            name: format!("{}:{}", self.addr, self.port),
            address: Some(self.addr.clone()),
            port: Some(self.port),
            user: Some(self.user.clone()),
            identity_files: vec![self.key.clone()],
            ssh_config: Some(identities_only_config(&self.key)?),
            known_hosts: Some(self.known_hosts.clone()),
            host_key_policy: self.policy,
            connect_timeout: Some(CONNECT_TIMEOUT),
            ..Default::default()
        })
    }

    async fn connection(&self) -> Result<Arc<dyn Connection>> {
        let mut c = self.conn.lock().await;
        if let Some(conn) = c.as_ref() {
            return Ok(conn.clone());
        }
        let conn = mdxconf_transport::connect_ssh(&self.target()?).await?;
        *c = Some(conn.clone());
        Ok(conn)
    }

    /// Drop the connection (the next command opens a new one).
    pub async fn close(&self) {
        if let Some(c) = self.conn.lock().await.take() {
            c.close().await;
        }
    }

    /// Run a shell command; returns its output whatever the exit code. Err = SSH failure.
    pub async fn exec(&self, cmd: &str, stdin: Option<&[u8]>) -> Result<Output> {
        let conn = self.connection().await?;
        let out = conn.exec(cmd, stdin.map(<[u8]>::to_vec)).await?;
        Ok(Output { rc: out.rc, stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() })
    }

    /// Run a command that must succeed; returns stdout.
    pub async fn run(&self, cmd: &str) -> Result<String> {
        let o = self.exec(cmd, None).await?;
        if o.rc != 0 {
            bail!("guest command failed (rc {}): {cmd}\n{}{}", o.rc, o.stdout.trim_end(), o.stderr.trim_end());
        }
        Ok(o.stdout)
    }

    /// Write a file in the guest (via `cat`, mode applied after).
    pub async fn put(&self, path: &str, content: &[u8], mode: u32) -> Result<()> {
        let q = mdxconf_transport::sh_quote(path);
        let tmp = mdxconf_transport::sh_quote(&format!("{path}.mdxconf-tmp"));
        let o = self.exec(&format!("mkdir -p \"$(dirname {q})\" && cat > {tmp} && chmod {mode:o} {tmp} && mv {tmp} {q}"), Some(content)).await?;
        if o.rc != 0 {
            bail!("writing {path} in the guest failed: {}", o.stderr.trim());
        }
        Ok(())
    }

    /// Wait until SSH answers and `identity_check` (a command whose stdout must equal `expect`) passes.
    /// Fails at once if QEMU exits. The identity check keeps an installer's own sshd (or any other
    /// system) from being taken for the built one; until it passes, the host key is not pinned (the
    /// build's known_hosts is emptied before each try), so an installer's key seen first cannot lock
    /// out the installed system. From then on the key is checked for the rest of the build.
    pub async fn wait_ready(&self, vm: &mut Vm, timeout: Duration, identity_check: &str, expect: &str) -> Result<Duration> {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Some(e) = vm.exited() {
                bail!("{e}");
            }
            if start.elapsed() > timeout {
                bail!(
                    "SSH on 127.0.0.1:{} did not become ready within {}s (last error: {})\n--- serial console (last lines) ---\n{}",
                    self.port,
                    timeout.as_secs(),
                    last.trim(),
                    crate::qemu::serial::tail(&vm.spec.serial_path(), 20)
                );
            }
            let _ = std::fs::remove_file(&self.known_hosts);
            // QEMU dying is noticed at once even while an attempt waits for its connect timeout
            let attempt = async {
                let r = self.exec(identity_check, None).await;
                if !matches!(&r, Ok(o) if o.rc == 0 && o.stdout.trim() == expect.trim()) {
                    self.close().await;
                }
                r
            };
            let r = tokio::select! {
                r = attempt => r,
                _ = vm.wait_exited() => continue,
            };
            match r {
                Ok(o) if o.rc == 0 && o.stdout.trim() == expect.trim() => return Ok(start.elapsed()),
                Ok(o) if o.rc == 0 => {
                    last = format!("reachable, but identity check `{identity_check}` printed `{}`, expected `{expect}` (not the built system yet)", o.stdout.trim());
                }
                Ok(o) => last = format!("identity check exited {}: {}", o.rc, o.stderr.trim()),
                Err(e) => last = format!("{e:#}"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// An ssh_config next to the key saying `IdentitiesOnly yes`: only the build's key is offered, never
/// agent keys (each failed key counts against the guest sshd's MaxAuthTries), and ~/.ssh/config is not read.
fn identities_only_config(key: &Path) -> Result<PathBuf> {
    let p = PathBuf::from(format!("{}.ssh_config", key.display()));
    let text = "# written by mdxconf: connections to build/lab VMs offer only this key\nHost *\n    IdentitiesOnly yes\n";
    if std::fs::read_to_string(&p).ok().as_deref() != Some(text) {
        crate::util::write_atomic(&p, text.as_bytes()).with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(p)
}

/// Wait for SSH without a Vm handle (lab VMs started earlier); fails once QEMU (`pid`) is gone.
pub async fn wait_ssh_pid(g: &Guest, pid: i32, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        if !crate::proc::pid_is_qemu(pid) {
            bail!("QEMU (pid {pid}) exited while waiting for SSH on port {}", g.port);
        }
        if start.elapsed() > timeout {
            bail!("SSH on 127.0.0.1:{} not ready within {}s: {}", g.port, timeout.as_secs(), last.trim());
        }
        match g.exec("true", None).await {
            Ok(o) if o.rc == 0 => return Ok(()),
            Ok(o) => last = o.stderr,
            Err(e) => {
                last = format!("{e:#}");
                g.close().await;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Generate an ed25519 key pair at `path` (and `path`.pub) unless it exists; returns the public key line.
pub async fn ensure_key(path: &Path, comment: &str) -> Result<String> {
    if !path.exists() {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        crate::proc::output(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"]).arg(path)).await?;
    }
    let pubp = PathBuf::from(format!("{}.pub", path.display()));
    Ok(std::fs::read_to_string(&pubp).with_context(|| format!("reading {}", pubp.display()))?.trim().to_string())
}
