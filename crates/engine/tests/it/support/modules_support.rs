//! Shared helpers for the module tests: a real local or chroot connection, a ModuleCtx, and a Debian 12
//! rootfs (mmdebstrap, cached under /var/tmp/mdxconf-test-cache) for package/user/group tests.
#![allow(dead_code)]
use mdxconf_config::template::Templater;
use mdxconf_engine::modules::{run_module, ModuleCtx, ModuleResult};
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Host {
    pub conn: Arc<dyn Connection>,
    pub templater: Templater,
    pub vars: Value,
    pub search_dirs: Vec<PathBuf>,
    pub become_user: Option<String>,
}

pub fn templater() -> Templater {
    Templater::new()
}

impl Host {
    pub fn local() -> Host {
        Host::with_conn(mdxconf_transport::local("localhost"))
    }
    pub fn chroot(root: &Path) -> Host {
        Host::with_conn(mdxconf_transport::chroot("rootfs", root.to_path_buf()))
    }
    pub fn with_conn(conn: Arc<dyn Connection>) -> Host {
        Host { conn, templater: templater(), vars: Value::Object(Map::new()), search_dirs: vec![], become_user: None }
    }
    pub fn ctx(&self, check: bool) -> ModuleCtx<'_> {
        ModuleCtx {
            conn: self.conn.as_ref(),
            become_user: self.become_user.as_deref(),
            check,
            diff: true,
            vars: &self.vars,
            templater: &self.templater,
            search_dirs: self.search_dirs.clone(),
        }
    }
    /// Run a module; arguments as a JSON object literal.
    pub async fn run(&self, module: &str, args: Value, check: bool) -> ModuleResult {
        let args = args.as_object().expect("args must be an object").clone();
        match run_module(module, &args, &self.ctx(check)).await {
            Ok(r) => r,
            Err(e) => panic!("{module} {args:?}: error: {e:#}"),
        }
    }
    /// Runs and asserts the module neither failed nor was skipped.
    pub async fn ok(&self, module: &str, args: Value, check: bool) -> ModuleResult {
        let r = self.run(module, args.clone(), check).await;
        assert!(!r.failed, "{module} {args} failed: {}", r.msg);
        r
    }
    /// check mode predicts a change, the real run changes, a second run and check mode do not.
    pub async fn converge(&self, module: &str, args: Value) -> (ModuleResult, ModuleResult) {
        let predicted = self.ok(module, args.clone(), true).await;
        assert!(predicted.changed, "{module} {args}: check mode predicted no change");
        let first = self.ok(module, args.clone(), false).await;
        assert!(first.changed, "{module} {args}: first run did not change");
        assert_eq!(predicted.diff.len(), first.diff.len(), "check-mode diff differs from the real one");
        for (p, f) in predicted.diff.iter().zip(&first.diff) {
            assert_eq!((&p.path, &p.before, &p.after), (&f.path, &f.before, &f.after), "check-mode diff differs");
        }
        let second = self.ok(module, args.clone(), false).await;
        assert!(!second.changed, "{module} {args}: second run changed: {:?}", second.diff);
        let again = self.ok(module, args.clone(), true).await;
        assert!(!again.changed, "{module} {args}: check after converge predicts a change");
        (first, second)
    }
    pub async fn sh(&self, cmd: &str) -> String {
        let cmd = mdxconf_transport::become_command(self.conn.login_user(), cmd, self.become_user.as_deref());
        let out = self.conn.exec(&cmd, None).await.expect("exec");
        assert_eq!(out.rc, 0, "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A real connection that counts the commands sent through it (round trips per task).
pub struct Counting {
    pub inner: Arc<dyn Connection>,
    pub execs: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Connection for Counting {
    fn host(&self) -> &str {
        self.inner.host()
    }
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<mdxconf_transport::ExecOutput, mdxconf_transport::TransportError> {
        self.execs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.exec(cmd, stdin).await
    }
    fn login_user(&self) -> Option<&str> {
        self.inner.login_user()
    }
}

impl Host {
    /// Same host, every exec counted; returns the counter.
    pub fn counting(inner: Arc<dyn Connection>) -> (Host, Arc<Counting>) {
        let c = Arc::new(Counting { inner, execs: Default::default() });
        (Host::with_conn(c.clone()), c)
    }
    /// Execs one run of the module costs.
    pub async fn execs_of(&self, counter: &Counting, module: &str, args: Value, check: bool) -> (ModuleResult, usize) {
        let before = counter.execs.load(std::sync::atomic::Ordering::SeqCst);
        let r = self.ok(module, args, check).await;
        (r, counter.execs.load(std::sync::atomic::Ordering::SeqCst) - before)
    }
}

pub fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A cached Debian 12 rootfs (`mmdebstrap --variant=apt bookworm`), copied per test run so tests never
/// pollute the cache. The copy lives until the process exits.
pub fn bookworm_rootfs() -> PathBuf {
    let cache = PathBuf::from("/var/tmp/mdxconf-test-cache");
    let key = "mmdebstrap --variant=apt bookworm v1";
    let h = mdxconf_transport::sha256_hex(key.as_bytes());
    let base = cache.join(format!("rootfs-bookworm-{}", &h[..16]));
    std::fs::create_dir_all(&cache).unwrap();
    if !base.join("bin/sh").exists() {
        let tmp = cache.join(format!("rootfs-bookworm-{}.tmp{}", &h[..16], std::process::id()));
        let st = std::process::Command::new("mmdebstrap").args(["--variant=apt", "bookworm"]).arg(&tmp).status().expect("run mmdebstrap");
        assert!(st.success(), "mmdebstrap failed");
        if std::fs::rename(&tmp, &base).is_err() {
            // another test process won the race
            let _ = std::process::Command::new("rm").arg("-rf").arg(&tmp).status();
        }
    }
    // copies left by earlier (finished) test processes are removed; a process cannot clean up a static
    for e in std::fs::read_dir(&cache).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("work-") {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                remove_rootfs(&e.path());
            }
        }
    }
    let work = cache.join(format!("work-{}", std::process::id()));
    if !work.exists() {
        let st = std::process::Command::new("cp").args(["-a", "--reflink=auto"]).arg(&base).arg(&work).status().unwrap();
        assert!(st.success(), "copying the rootfs failed");
    }
    work
}

/// Removes a per-run rootfs copy (after unmounting anything left inside).
pub fn remove_rootfs(root: &Path) {
    for m in ["proc", "dev"] {
        let _ = std::process::Command::new("umount").arg("-l").arg(root.join(m)).stderr(std::process::Stdio::null()).status();
    }
    let _ = std::process::Command::new("rm").args(["-rf", "--one-file-system"]).arg(root).status();
}
