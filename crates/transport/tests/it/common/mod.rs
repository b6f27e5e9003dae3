//! Helpers shared by the transport integration tests.
#![allow(dead_code)]
use mdxconf_transport::{Connection, ExecOutput};

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub async fn run(c: &dyn Connection, cmd: &str) -> ExecOutput {
    c.exec(cmd, None).await.unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// `$SSH_CONNECTION` on the remote side: (client ip, client port, server ip, server port).
pub async fn ssh_connection(c: &dyn Connection) -> (String, u16, String, u16) {
    let out = run(c, "echo $SSH_CONNECTION").await;
    let s = text(&out.stdout);
    let f: Vec<&str> = s.split_whitespace().collect();
    assert_eq!(f.len(), 4, "SSH_CONNECTION={s:?}");
    (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string(), f[3].parse().unwrap())
}

/// pid of the process owning the TCP socket local_port -> dst (via `ss -tnp`).
pub fn socket_owner(local_port: u16, dst: &str) -> Option<u32> {
    let out = std::process::Command::new("ss").args(["-Htnp", "state", "established"]).output().ok()?;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Recv-Q Send-Q Local Peer users:(("sshd",pid=123,fd=4))
        if f.len() >= 5 && f[2].ends_with(&format!(":{local_port}")) && f[3] == dst {
            let users = f[4..].join(" ");
            let pid = users.split("pid=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?;
            return pid.parse().ok();
        }
    }
    None
}

/// Number of established TCP connections from this process to `dst` (ip:port).
pub fn my_connections_to(dst: &str) -> usize {
    let me = format!("pid={},", std::process::id());
    let out = std::process::Command::new("ss").args(["-Htnp", "state", "established"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 5 && f[3] == dst && l.contains(&me)
        })
        .count()
}

pub fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` is `ancestor` or one of its descendants.
pub fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..64 {
        if pid == ancestor {
            return true;
        }
        match ppid(pid) {
            Some(p) if p > 1 => pid = p,
            _ => return false,
        }
    }
    false
}

/// Write `data` to `path` on the host through the connection (stdin to `cat`): the transport moves
/// bytes; atomic writes are the modules crate's (ops/write.rs), tested there and in the engine.
pub async fn put(c: &dyn mdxconf_transport::Connection, path: &str, data: Vec<u8>) -> mdxconf_transport::ExecOutput {
    c.exec(&format!("cat > {}", mdxconf_transport::sh_quote(path)), Some(data)).await.unwrap()
}

/// The tests of this binary share one process environment. A test that sets variables the transport
/// reads (HOME, SSH_AUTH_SOCK, MDXCONF_SSH_*) holds `env_exclusive` for its whole run, and every other
/// test holds `env_shared`, so no test runs with another's settings; the variables are restored after.
static ENV: std::sync::RwLock<()> = std::sync::RwLock::new(());

pub fn env_shared() -> std::sync::RwLockReadGuard<'static, ()> {
    ENV.read().unwrap_or_else(|e| e.into_inner())
}

pub struct EnvGuard {
    saved: Vec<(&'static str, Option<std::ffi::OsString>)>,
    _lock: std::sync::RwLockWriteGuard<'static, ()>,
}

pub fn env_exclusive(vars: &[&'static str]) -> EnvGuard {
    let lock = ENV.write().unwrap_or_else(|e| e.into_inner());
    EnvGuard { saved: vars.iter().map(|v| (*v, std::env::var_os(v))).collect(), _lock: lock }
}

impl Drop for EnvGuard {
    fn drop(&mut self) {
        for (k, v) in &self.saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
}
