//! Commands inside a guest over its forwarded SSH port, using the OpenSSH client with the build's own
//! key and known_hosts file (never the user's ~/.ssh/known_hosts: forwarded ports are reused).
use crate::qemu::Vm;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

#[derive(Debug, Clone)]
pub struct Guest {
    pub port: u16,
    pub user: String,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
}

pub struct Output {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Guest {
    fn base_cmd(&self, connect_timeout: u64) -> Command {
        let mut c = Command::new("ssh");
        c.args(["-p", &self.port.to_string(), "-i"]).arg(&self.key);
        c.args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=accept-new", "-o", "LogLevel=ERROR"]);
        c.arg("-o").arg(format!("UserKnownHostsFile={}", self.known_hosts.display()));
        c.arg("-o").arg(format!("ConnectTimeout={connect_timeout}"));
        c.args(["-o", "ServerAliveInterval=15", "-F", "/dev/null"]);
        // one TCP+SSH handshake per guest, not per command (each costs seconds on an emulated guest)
        c.args(["-o", "ControlMaster=auto", "-o", "ControlPersist=30"]).arg("-o").arg(format!("ControlPath={}", self.control_path().display()));
        c.arg(format!("{}@127.0.0.1", self.user));
        c.kill_on_drop(true);
        c
    }

    fn control_path(&self) -> PathBuf {
        std::env::temp_dir().join(format!("mdxconf-ssh-{}-{}", std::process::id(), self.port))
    }

    /// Stop the shared SSH connection (no ssh process is left behind).
    pub async fn close(&self) {
        let mut c = Command::new("ssh");
        c.arg("-o").arg(format!("ControlPath={}", self.control_path().display()));
        c.args(["-O", "exit", "-p", &self.port.to_string(), "-F", "/dev/null"]).arg(format!("{}@127.0.0.1", self.user));
        c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let _ = c.status().await;
    }

    /// Run a shell command; returns its output whatever the exit code (rc 255 = SSH failure).
    pub async fn exec(&self, cmd: &str, stdin: Option<&[u8]>) -> Result<Output> {
        let mut c = self.base_cmd(10);
        c.arg(cmd).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().context("running ssh (is openssh-client installed?)")?;
        if let (Some(data), Some(mut si)) = (stdin, child.stdin.take()) {
            si.write_all(data).await?;
            drop(si);
        }
        let out = child.wait_with_output().await?;
        Ok(Output { rc: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() })
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
        let q = shell_quote(path);
        let tmp = shell_quote(&format!("{path}.mdxconf-tmp"));
        let o = self.exec(&format!("mkdir -p \"$(dirname {q})\" && cat > {tmp} && chmod {mode:o} {tmp} && mv {tmp} {q}"), Some(content)).await?;
        if o.rc != 0 {
            bail!("writing {path} in the guest failed: {}", o.stderr.trim());
        }
        Ok(())
    }

    /// Wait until SSH answers and `identity_check` (a command whose stdout must equal `expect`) passes.
    /// Fails at once if QEMU exits. The identity check keeps an installer's own sshd (or any other
    /// system) from being taken for the built one.
    pub async fn wait_ready(&self, vm: &mut Vm, timeout: Duration, identity_check: &str, expect: &str) -> Result<Duration> {
        let start = Instant::now();
        let mut last = String::new();
        loop {
            if let Some(e) = vm.exited() {
                bail!("{e}");
            }
            if start.elapsed() > timeout {
                bail!("SSH on 127.0.0.1:{} did not become ready within {}s (last error: {})\n--- serial console (last lines) ---\n{}", self.port, timeout.as_secs(), last.trim(), crate::qemu::serial::tail(&vm.spec.serial_path(), 20));
            }
            match self.exec(identity_check, None).await {
                Ok(o) if o.rc == 0 && o.stdout.trim() == expect.trim() => return Ok(start.elapsed()),
                Ok(o) if o.rc == 0 => {
                    last = format!("reachable, but identity check `{identity_check}` printed `{}`, expected `{expect}` (not the built system yet)", o.stdout.trim());
                }
                Ok(o) => last = o.stderr,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// Wait for SSH without a Vm handle (lab VMs started earlier); `alive` tells whether QEMU still runs.
pub async fn wait_ssh_pid(g: &Guest, pid: i32, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        if !crate::lab::pid_is_qemu(pid) {
            bail!("QEMU (pid {pid}) exited while waiting for SSH on port {}", g.port);
        }
        if start.elapsed() > timeout {
            bail!("SSH on 127.0.0.1:{} not ready within {}s: {}", g.port, timeout.as_secs(), last.trim());
        }
        match g.exec("true", None).await {
            Ok(o) if o.rc == 0 => return Ok(()),
            Ok(o) => last = o.stderr,
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
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
