//! The package cache all builds of one `image build` run share: Debian's apt-cacher-ng, started for
//! the run on 127.0.0.1 and stopped after it. mmdebstrap (on the host) and the build VMs' apt (through
//! QEMU's user network, host 10.0.2.2) fetch through it, so a rebuild downloads only what changed
//! upstream. Why a caching proxy and not mmdebstrap's own archive directory: one cache serves both the
//! root file system and the packages roles install inside the guest (BENCHMARKS.md has the numbers).
//! It only carries bytes: apt still checks every file against the signed Release files (no option
//! here weakens that), so integrity stays apt's. Two runs on one cache directory never share a
//! daemon: the second builds without the cache (it says so) rather than wait or corrupt it.
use super::package_cache_options::{PackageCacheMode, Traffic};
use anyhow::{bail, Context, Result};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::{Child, Command};

/// The daemon's binary (Debian package apt-cacher-ng).
const DAEMON: &str = "apt-cacher-ng";
/// The address build VMs reach the host's loopback at (QEMU user networking).
pub const GUEST_HOST: &str = "10.0.2.2";
/// The apt configuration file a build VM gets while it is provisioned (removed before generalizing).
pub const GUEST_APT_CONF: &str = "/etc/apt/apt.conf.d/00mdxconf-build-proxy";

/// A running package cache; stop it with [`PackageCache::finish`] (dropping it kills the daemon).
pub struct PackageCache {
    child: Child,
    dir: PathBuf,
    /// where this run's lines start in the daemon's transfer log
    log_start: u64,
    _lock: std::fs::File,
    /// the daemon's port, held until it stops so no other mdxconf process is handed it
    lease: crate::qemu::ports::PortLease,
}

/// The daemon on PATH, else where Debian puts it (/usr/sbin is not on every user's PATH).
fn find_daemon() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin")]).map(|d| d.join(DAEMON)).find(|p| p.is_file())
}

/// Take the directory's lock without waiting; `None` when another run holds it.
fn try_lock(path: &Path) -> Result<Option<std::fs::File>> {
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(crate::util::try_flock(&f).with_context(|| format!("locking {}", path.display()))?.then_some(f))
}

fn config(dir: &Path, port: u16) -> String {
    // its admin socket, short enough for a UNIX socket wherever the cache lives
    let sock = crate::qemu::socket_path(dir.join("run/acng.socket"));
    // no Remap rules: files are kept per host and path as apt asked for them, nothing is redirected
    format!(
        "# written by mdxconf for one build run\nCacheDir: {d}/archive\nLogDir: {d}/log\nSupportDir: /usr/lib/apt-cacher-ng\nPort: {port}\nBindAddress: 127.0.0.1\nForeGround: 1\nPidFile: {d}/run/pid\nSocketPath: {s}\nExThreshold: 4\n",
        d = dir.display(),
        s = sock.display()
    )
}

impl PackageCache {
    /// Start the cache in `dir` (created), or `None` when `mode` is off, when `auto` finds no
    /// apt-cacher-ng, or when another run uses `dir` (each with a note on stderr unless `quiet`).
    pub async fn start(dir: &Path, mode: PackageCacheMode, quiet: bool) -> Result<Option<PackageCache>> {
        let note = |m: &str| {
            if !quiet {
                eprintln!("package cache: {m}");
            }
        };
        let daemon = match (mode, find_daemon()) {
            (PackageCacheMode::Off, _) => return Ok(None),
            (_, Some(d)) => d,
            (PackageCacheMode::Auto, None) => {
                note("apt-cacher-ng is not installed: packages are downloaded by every build (apt install apt-cacher-ng)");
                return Ok(None);
            }
            (PackageCacheMode::On, None) => bail!("--package-cache on: apt-cacher-ng is not installed (apt install apt-cacher-ng)"),
        };
        for sub in ["archive", "log", "run"] {
            std::fs::create_dir_all(dir.join(sub)).with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        let Some(lock) = try_lock(&dir.join("lock"))? else {
            if mode == PackageCacheMode::On {
                bail!("--package-cache on: another mdxconf run uses the package cache {}", dir.display());
            }
            note(&format!("another mdxconf run uses {}: this run downloads its packages directly", dir.display()));
            return Ok(None);
        };
        let log_start = std::fs::metadata(dir.join("log/apt-cacher.log")).map(|m| m.len()).unwrap_or(0);
        // apt-cacher-ng 3.7 cannot bind ports above 32767 ("Error resolving address for binding")
        let lease = crate::qemu::ports::free_tcp_port_in(20000..32000).context("a port for the package cache")?;
        let port = lease.port;
        crate::util::write_atomic(&dir.join("acng.conf"), config(dir, port).as_bytes())?;
        let err_log = std::fs::File::create(dir.join("log/daemon.out"))?;
        let mut cmd = Command::new(&daemon);
        cmd.arg("-c").arg(dir).stdin(std::process::Stdio::null()).stdout(err_log.try_clone()?).stderr(err_log).kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {DAEMON}"))?;
        let mut pc = PackageCache { child, dir: dir.to_path_buf(), log_start, _lock: lock, lease };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                note(&format!("apt-cacher-ng on 127.0.0.1:{port}, cache {}", dir.join("archive").display()));
                return Ok(Some(pc));
            }
            if let Some(st) = pc.child.try_wait()? {
                let out = std::fs::read_to_string(dir.join("log/daemon.out")).unwrap_or_default();
                bail!("{DAEMON} exited ({st}) before it listened on 127.0.0.1:{port}: {}", out.trim());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{DAEMON} did not listen on 127.0.0.1:{port} within 5 s (see {})", dir.join("log").display())
    }

    pub fn port(&self) -> u16 {
        self.lease.port
    }

    /// Stop the daemon (SIGTERM, so it finishes its files) and count what this run moved.
    pub async fn finish(mut self) -> Traffic {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling our own child by pid
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
        traffic(&self.dir.join("log/apt-cacher.log"), self.log_start)
    }
}

/// Run `run` (one build or a catalogue) with the package cache `opts` asks for: started before, its
/// port in the options every build of the run gets, stopped after; `run`'s value and the traffic.
pub async fn around<T, F, Fut>(opts: &super::BuildOptions, run: F) -> Result<(T, Option<Traffic>)>
where
    F: FnOnce(super::BuildOptions) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let dir = match &opts.package_cache_dir {
        Some(d) => d.clone(),
        None => super::cache::Cache::new(opts.cache_dir.clone()).root.join("packages"),
    };
    let pc = PackageCache::start(&dir, opts.package_cache, opts.quiet).await?;
    let mut o = opts.clone();
    o.package_proxy = pc.as_ref().map(|p| p.port());
    let value = run(o).await;
    let traffic = match pc {
        Some(pc) => Some(pc.finish().await),
        None => None,
    };
    Ok((value, traffic))
}

/// Sum the transfer log from `start`: `time|I|bytes|client|url` lines are bytes fetched upstream,
/// `O` lines bytes handed to apt.
pub fn traffic(log: &Path, start: u64) -> Traffic {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(log) {
        if f.seek(SeekFrom::Start(start)).is_ok() {
            let _ = f.read_to_string(&mut text);
        }
    }
    let mut t = Traffic::default();
    for l in text.lines() {
        let mut it = l.split('|');
        let (_, kind, bytes) = (it.next(), it.next(), it.next().and_then(|b| b.parse::<u64>().ok()));
        match (kind, bytes) {
            (Some("I"), Some(b)) => t.upstream_bytes += b,
            (Some("O"), Some(b)) => {
                t.served_bytes += b;
                t.requests += 1;
            }
            _ => {}
        }
    }
    t
}

/// The guest's apt configuration for this build: everything through the cache, except addresses of
/// the build host itself (test repositories a role serves there are fetched directly).
pub fn guest_apt_conf(port: u16) -> String {
    format!(
        "// mdxconf: this build's package cache; removed before the image is generalized\nAcquire::http::Proxy \"http://{GUEST_HOST}:{port}\";\nAcquire::http::Proxy::{GUEST_HOST} \"DIRECT\";\nAcquire::http::Proxy::127.0.0.1 \"DIRECT\";\nAcquire::http::Proxy::localhost \"DIRECT\";\n"
    )
}

/// A shell check that nothing in the guest's apt configuration still points at this build's cache
/// (neither the file mdxconf wrote nor mmdebstrap's copy of its options): a template must never
/// ship a proxy that only existed during its build.
pub fn guest_leak_check(port: u16) -> String {
    format!(
        "rm -f {GUEST_APT_CONF}; if grep -rlsE '(127\\.0\\.0\\.1|{}):{port}' /etc/apt/apt.conf /etc/apt/apt.conf.d; then echo 'the build package cache is still configured in the files above' >&2; exit 1; fi",
        GUEST_HOST.replace('.', "\\.")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transfer_log_is_summed_from_this_runs_start() {
        let t = tempfile::tempdir().unwrap();
        let log = t.path().join("apt-cacher.log");
        let old = "1|I|999|127.0.0.1|deb.debian.org/old\n1|O|999|127.0.0.1|deb.debian.org/old\n";
        let new = "2|I|100|127.0.0.1|deb.debian.org/a.deb\n2|O|110|127.0.0.1|deb.debian.org/a.deb\n2|O|110|127.0.0.1|deb.debian.org/a.deb\ngarbage\n3|O|x|y\n";
        crate::util::write_atomic(&log, format!("{old}{new}").as_bytes()).unwrap();
        let t = traffic(&log, old.len() as u64);
        assert_eq!(t, Traffic { upstream_bytes: 100, served_bytes: 220, requests: 2 });
        assert_eq!(traffic(Path::new("/nonexistent/apt-cacher.log"), 0), Traffic::default());
    }

    #[test]
    fn the_guest_check_matches_only_this_builds_port() {
        let c = guest_leak_check(3199);
        assert!(c.contains("10\\.0\\.2\\.2):3199") && c.contains(GUEST_APT_CONF));
        assert!(guest_apt_conf(3199).contains("\"http://10.0.2.2:3199\""));
    }
}
