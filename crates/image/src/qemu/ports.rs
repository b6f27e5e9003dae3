//! Free loopback ports for hostfwd (TCP) and the lab's multicast network (UDP).
//!
//! Why not just "bind :0 and close": two builds started at the same instant could both be handed a port
//! before QEMU binds it. The kernel's ephemeral allocator makes that unlikely, and we also keep a lock file
//! per port (O_EXCL, with our pid) under /tmp so parallel mdxconf processes never pick the same one.
//! If QEMU still fails to bind (someone else grabbed it), the caller sees QEMU die at once and retries.
use anyhow::{Context, Result};
use std::fs::OpenOptions;
use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("mdxconf-ports")
}

/// A port reserved by this process until dropped.
#[derive(Debug)]
pub struct PortLease {
    pub port: u16,
    lock: PathBuf,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

impl PortLease {
    /// Keep the reservation beyond this process (lab VMs outlive `lab up`); `lab down` releases it.
    pub fn persist(self) -> u16 {
        let p = self.port;
        std::mem::forget(self);
        p
    }
}

/// Release a persisted lease (by port number).
pub fn release(kind: &str, port: u16) {
    let _ = std::fs::remove_file(lock_dir().join(format!("{kind}-{port}")));
}

fn pid_alive(pid: i32) -> bool {
    // signal 0: existence check only
    unsafe { libc::kill(pid, 0) == 0 }
}

fn try_lock(kind: &str, port: u16) -> Option<PortLease> {
    let dir = lock_dir();
    let _ = std::fs::create_dir_all(&dir);
    let lock = dir.join(format!("{kind}-{port}"));
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(mut f) => {
                let _ = write!(f, "{}", std::process::id());
                return Some(PortLease { port, lock });
            }
            Err(_) => {
                // stale lock from a dead process (no lab state pointing at it): take it over
                let owner = std::fs::read_to_string(&lock).ok().and_then(|s| s.trim().parse::<i32>().ok());
                match owner {
                    Some(pid) if pid_alive(pid) => return None,
                    _ => {
                        let _ = std::fs::remove_file(&lock);
                    }
                }
            }
        }
    }
    None
}

/// A free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> Result<PortLease> {
    for _ in 0..50 {
        let l = TcpListener::bind("127.0.0.1:0").context("binding a probe socket on 127.0.0.1")?;
        let port = l.local_addr()?.port();
        drop(l);
        if let Some(lease) = try_lock("tcp", port) {
            return Ok(lease);
        }
    }
    anyhow::bail!("no free TCP port found on 127.0.0.1 after 50 tries")
}

/// A free TCP port on 127.0.0.1 inside `range`, for daemons that cannot take any port (apt-cacher-ng
/// 3.7 fails to bind ports above 32767). Leased like [`free_tcp_port`]'s.
pub fn free_tcp_port_in(range: std::ops::Range<u16>) -> Result<PortLease> {
    let span = range.end.saturating_sub(range.start);
    anyhow::ensure!(span > 0, "empty port range {range:?}");
    // start where this process's id points, so concurrent runs rarely probe the same ports
    let first = std::process::id() % span as u32;
    for i in 0..span as u32 {
        let port = range.start + ((first + i) % span as u32) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            if let Some(lease) = try_lock("tcp", port) {
                return Ok(lease);
            }
        }
    }
    anyhow::bail!("no free TCP port on 127.0.0.1 in {range:?}")
}

/// A free UDP port (for the lab's multicast socket network).
pub fn free_udp_port() -> Result<PortLease> {
    for _ in 0..50 {
        let s = UdpSocket::bind("127.0.0.1:0").context("binding a probe UDP socket")?;
        let port = s.local_addr()?.port();
        drop(s);
        if let Some(lease) = try_lock("udp", port) {
            return Ok(lease);
        }
    }
    anyhow::bail!("no free UDP port found after 50 tries")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn two_leases_differ_and_release() {
        let a = free_tcp_port().unwrap();
        let b = free_tcp_port().unwrap();
        assert_ne!(a.port, b.port);
        let lock = lock_dir().join(format!("tcp-{}", a.port));
        assert!(lock.exists());
        drop(a);
        assert!(!lock.exists());
    }

    #[test]
    fn leases_in_a_range_stay_in_it_and_differ() {
        let a = free_tcp_port_in(20000..32000).unwrap();
        let b = free_tcp_port_in(20000..32000).unwrap();
        assert!((20000..32000).contains(&a.port) && (20000..32000).contains(&b.port));
        assert_ne!(a.port, b.port);
        assert!(free_tcp_port_in(5..5).is_err());
    }
}
