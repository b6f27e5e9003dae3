//! How commands reach a host: russh (one persistent connection per host), local, and chroot.
//! Everything above this layer speaks only `Connection::exec` (a shell command with optional stdin).
//!
//! Modules: `ssh` (russh client, ProxyJump, auth), `sshconfig` (~/.ssh/config), `known_hosts`, `host_cert`,
//! `local`, `chroot`, `quote` (sh quoting, sudo), `files` (atomic writes, sha256). Real sshd fleets for
//! tests and benchmarks live in the dev-only crate mdxconf-testkit, not in the product.
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;

mod chroot;
mod files;
pub mod host_cert;
pub mod known_hosts;
mod local;
mod pattern;
mod process;
mod quote;
mod ssh;
pub mod sshconfig;

pub use chroot::ChrootConnection;
pub use files::sha256_hex;
pub use local::LocalConnection;
pub use quote::become_command;
pub use ssh::{close_jump_hosts, jump_connection_count, SshConnection};

#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{host}: unreachable: {msg}")]
    Unreachable { host: String, msg: String },
    #[error("{host}: host key verification failed: {msg}")]
    HostKey { host: String, msg: String },
    #[error("{host}: authentication failed: {msg}")]
    Auth { host: String, msg: String },
    #[error("{host}: {msg}")]
    Other { host: String, msg: String },
}

/// A live connection to one host. Cheap to share (`Arc<dyn Connection>`); commands may run concurrently.
#[async_trait]
pub trait Connection: Send + Sync {
    /// Inventory name of the host.
    fn host(&self) -> &str;
    /// Run `cmd` with `/bin/sh -c` semantics on the host, feeding `stdin` if given.
    /// stdin is always closed (EOF) after it is written, so commands reading it terminate.
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError>;
    async fn close(&self) {}
    /// The user commands run as before any `become` (None if unknown). `become_command` skips sudo
    /// when this is already the become user.
    fn login_user(&self) -> Option<&str> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Verify against known_hosts; unknown or changed keys are an error (default).
    #[default]
    Strict,
    /// Add unknown hosts to known_hosts; a changed key is still an error.
    AcceptNew,
}

/// Everything needed to reach a host; inventory values (ansible_host/user/port/...) override ~/.ssh/config.
#[derive(Debug, Clone, Default)]
pub struct SshTarget {
    /// Inventory name (used to look up ~/.ssh/config `Host` entries when `address` is None)
    pub name: String,
    /// ansible_host. Like `ssh ADDRESS`, ~/.ssh/config `Host` blocks are matched against it when set.
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_files: Vec<PathBuf>,
    pub password: Option<String>,
    /// `ProxyJump` spec, e.g. `user@bastion:22` (comma-separated chain allowed; `none` disables
    /// a ProxyJump from ssh_config)
    pub proxy_jump: Option<String>,
    /// ssh_config file to read instead of ~/.ssh/config.
    pub ssh_config: Option<PathBuf>,
    /// known_hosts file to use instead of UserKnownHostsFile / ~/.ssh/known_hosts.
    pub known_hosts: Option<PathBuf>,
    /// Strict by default; AcceptNew also when ssh_config says `StrictHostKeyChecking accept-new`.
    pub host_key_policy: HostKeyPolicy,
    /// Default: ssh_config ConnectTimeout, else 10 s. Covers TCP connect, handshake and authentication.
    pub connect_timeout: Option<Duration>,
}

/// Open one SSH connection (through ProxyJump if configured), authenticating with agent, keys, or password.
pub async fn connect_ssh(t: &SshTarget) -> Result<std::sync::Arc<dyn Connection>, TransportError> {
    ssh::connect_ssh(t).await
}

/// Commands on the controller itself.
pub fn local(name: &str) -> std::sync::Arc<dyn Connection> {
    std::sync::Arc::new(LocalConnection::new(name))
}

/// Commands inside a directory tree via chroot (image builds).
pub fn chroot(name: &str, root: PathBuf) -> std::sync::Arc<dyn Connection> {
    std::sync::Arc::new(ChrootConnection::new(name, root))
}

/// Wrap a command for privilege escalation (`become`): `sudo -n -H -u USER -- /bin/sh -c '...'`.
/// Always wraps; use [`become_command`] to skip sudo when the login user already is `user`.
pub fn wrap_become(cmd: &str, user: &str) -> String {
    quote::wrap_become(cmd, user)
}

/// Quote a string for POSIX sh.
pub fn sh_quote(s: &str) -> String {
    quote::sh_quote(s)
}

/// sha256 hex of a file on the host, or None when it does not exist.
pub async fn remote_sha256(c: &dyn Connection, path: &str, become_user: Option<&str>) -> Result<Option<String>, TransportError> {
    files::remote_sha256(c, path, become_user).await
}

/// Raise the soft RLIMIT_NOFILE to the hard limit: one socket per host, thousands of hosts.
/// Returns the new soft limit.
pub fn raise_nofile_limit() -> libc::rlim_t {
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) != 0 {
            return 0;
        }
        if rl.rlim_cur < rl.rlim_max {
            let want = libc::rlimit { rlim_cur: rl.rlim_max, rlim_max: rl.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                return want.rlim_cur;
            }
        }
        rl.rlim_cur
    }
}
