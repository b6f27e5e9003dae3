//! How commands reach a host: russh (one persistent connection per host), local, and chroot.
//! Everything above this layer speaks only `Connection::exec` (a shell command with optional stdin).
//! INTERFACE STUB — implemented by the transport owner.
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;

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
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError>;
    async fn close(&self) {}
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
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_files: Vec<PathBuf>,
    pub password: Option<String>,
    /// `ProxyJump` spec, e.g. `user@bastion:22` (comma-separated chain allowed)
    pub proxy_jump: Option<String>,
    pub ssh_config: Option<PathBuf>,
    pub known_hosts: Option<PathBuf>,
    pub host_key_policy: HostKeyPolicy,
    pub connect_timeout: Option<Duration>,
}

/// Open one SSH connection (through ProxyJump if configured), authenticating with agent, keys, or password.
pub async fn connect_ssh(_t: &SshTarget) -> Result<std::sync::Arc<dyn Connection>, TransportError> { todo!() }

/// Commands on the controller itself.
pub fn local(_name: &str) -> std::sync::Arc<dyn Connection> { todo!() }

/// Commands inside a directory tree via chroot (image builds).
pub fn chroot(_name: &str, _root: PathBuf) -> std::sync::Arc<dyn Connection> { todo!() }

/// Wrap a command for privilege escalation (`become`): `sudo -n -H -u USER -- /bin/sh -c '...'`.
pub fn wrap_become(_cmd: &str, _user: &str) -> String { todo!() }

/// Quote a string for POSIX sh.
pub fn sh_quote(_s: &str) -> String { todo!() }

/// Write a file atomically on the host (temp file in the same directory + rename), optionally chmod.
pub async fn put_file_atomic(_c: &dyn Connection, _path: &str, _content: Vec<u8>, _mode: Option<u32>, _become: Option<&str>) -> Result<ExecOutput, TransportError> { todo!() }

/// sha256 hex of a file on the host, or None when it does not exist.
pub async fn remote_sha256(_c: &dyn Connection, _path: &str, _become: Option<&str>) -> Result<Option<String>, TransportError> { todo!() }
