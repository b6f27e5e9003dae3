//! A real OpenSSH server on a loopback address for tests, with its own host key and config,
//! plus throwaway local users (tests run as root, like CI).
#![allow(dead_code)]
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub addr: String,
    pub port: u16,
    pub client_key: PathBuf,
    child: Child,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn free_port(addr: &str) -> u16 {
    let l = std::net::TcpListener::bind((addr, 0)).expect("bind loopback");
    l.local_addr().unwrap().port()
}

impl Sshd {
    /// Start sshd on `addr` (a 127.0.0.x address). `use_pam` selects how expired passwords are
    /// handled: PAM's chauthtok dialog, or sshd running passwd(1) itself.
    pub fn start(addr: &str, use_pam: bool, authorized_users: &[&str]) -> Sshd {
        assert!(unsafe { libc_geteuid() } == 0, "this test starts sshd and creates users: run it as root (CI does)");
        std::fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(d.join("host_key")));
        run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(d.join("client_key")));
        let keys = d.join("authorized_keys");
        std::fs::create_dir_all(&keys).unwrap();
        let pubkey = std::fs::read_to_string(d.join("client_key.pub")).unwrap();
        for u in authorized_users {
            std::fs::write(keys.join(u), &pubkey).unwrap();
        }
        let port = free_port(addr);
        let config = format!(
            "ListenAddress {addr}:{port}\nHostKey {hk}\nPidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys/%u\n\
             StrictModes no\nUsePAM {pam}\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\nPrintMotd no\nPrintLastLog no\nLogLevel VERBOSE\n",
            hk = d.join("host_key").display(),
            d = d.display(),
            pam = if use_pam { "yes" } else { "no" },
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child =
            Command::new("/usr/sbin/sshd").args(["-D", "-e", "-f"]).arg(d.join("sshd_config")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("start sshd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((addr, port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen: {}", std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(100));
        }
        let client_key = d.join("client_key");
        Sshd { dir, addr: addr.to_string(), port, client_key, child }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// An INI inventory naming this server as host `name` in group `default`.
    pub fn inventory(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("hosts.ini");
        std::fs::write(&p, format!("[default]\n{name} ansible_host={} ansible_port={}\n", self.addr, self.port)).unwrap();
        p
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// A local user that is deleted (with its home) when dropped.
pub struct TempUser(pub String);

impl TempUser {
    pub fn create(name: &str, password: Option<&str>) -> TempUser {
        let _ = Command::new("userdel").args(["-r", name]).output();
        run(Command::new("useradd").args(["-m", "-s", "/bin/sh", name]));
        if let Some(p) = password {
            run_stdin(&mut Command::new("chpasswd"), &format!("{name}:{p}\n"));
        }
        TempUser(name.to_string())
    }

    /// The password hash in /etc/shadow.
    pub fn shadow_hash(&self) -> String {
        let shadow = std::fs::read_to_string("/etc/shadow").unwrap();
        shadow.lines().find_map(|l| l.strip_prefix(&format!("{}:", self.0))).map(|rest| rest.split(':').next().unwrap().to_string()).expect("user in /etc/shadow")
    }

    /// Whether `password` matches the shadow hash, checked by libc's crypt(3) (yescrypt on Debian 12).
    pub fn password_is(&self, password: &str) -> bool {
        let out = Command::new("perl").args(["-e", "print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 'yes' : 'no'", password, &self.shadow_hash()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout) == "yes"
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").args(["-f", "-r", &self.0]).output();
    }
}

pub fn run_stdin(cmd: &mut Command, input: &str) {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}
