//! Child processes in their own process group, killed (whole group) when their guard is dropped —
//! so an error, a panic or Ctrl-C never leaves mmdebstrap's apt/dpkg or a QEMU behind.
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use tokio::process::{Child, Command};

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|st| st.rsplit(") ").next().map(|r| r.starts_with('Z')).unwrap_or(false)).unwrap_or(false)
}

/// Whether `pid` is still a live QEMU process (guards against pid reuse).
pub fn pid_is_qemu(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(c) => String::from_utf8_lossy(&c).contains("qemu") && !is_zombie(pid),
        Err(_) => false,
    }
}

pub struct GroupChild {
    pub child: Child,
    pub pid: i32,
    armed: bool,
}

impl GroupChild {
    /// Spawn `cmd` as the leader of a new session (own process group; a terminal's Ctrl-C is not sent
    /// to it — we decide how to stop it).
    pub fn spawn(cmd: &mut Command) -> Result<GroupChild> {
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let prog = format!("{:?}", cmd.as_std().get_program());
        let child = cmd.spawn().with_context(|| format!("starting {prog}"))?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        Ok(GroupChild { child, pid, armed: true })
    }
    /// Do not kill the group on drop (the process must outlive us: lab VMs, `--on-error keep`).
    pub fn disarm(&mut self) {
        self.armed = false;
    }
    pub fn kill_group(&mut self) {
        if self.pid > 0 {
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
    }
    pub async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let st = self.child.wait().await;
        st
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(None) = self.child.try_wait() {
                // SIGTERM first: mmdebstrap unmounts what it mounted in its chroot when asked politely
                if self.pid > 0 {
                    unsafe {
                        libc::kill(-self.pid, libc::SIGTERM);
                    }
                }
                for _ in 0..50 {
                    if let Ok(Some(_)) = self.child.try_wait() {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                self.kill_group();
                // reap so no zombie stays behind in a long-running process
                let _ = self.child.try_wait();
            }
        }
    }
}

/// Mount points at or below `dir` (from /proc/self/mountinfo), deepest first.
pub fn mounts_below(dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy().trim_end_matches('/').to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<String> = info.lines().filter_map(|l| l.split(' ').nth(4)).map(|m| m.replace("\\040", " ")).filter(|m| *m == d || m.starts_with(&format!("{d}/"))).collect();
    v.sort_by_key(|m| std::cmp::Reverse(m.len()));
    v
}

/// Remove a directory tree, but never through a mount point (an interrupted chroot build may leave
/// /proc, /sys or /dev mounted inside it): lazily unmount first, refuse if anything stays mounted.
pub fn remove_tree_safely(dir: &Path) -> std::io::Result<()> {
    for m in mounts_below(dir) {
        let _ = std::process::Command::new("umount").args(["-l", &m]).status();
    }
    let left = mounts_below(dir);
    if !left.is_empty() {
        return Err(std::io::Error::other(format!("not removing {}: still mounted: {}", dir.display(), left.join(", "))));
    }
    std::fs::remove_dir_all(dir)
}

/// Run a command to completion, appending its output to `log`; on failure the error names the command
/// and quotes the tail of its output.
pub async fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    let f = std::fs::OpenOptions::new().create(true).append(true).open(log).with_context(|| format!("opening {}", log.display()))?;
    let desc = describe(cmd);
    {
        use std::io::Write;
        let mut lf = &f;
        let _ = writeln!(lf, "$ {desc}");
    }
    cmd.stdin(Stdio::null()).stdout(f.try_clone()?).stderr(f);
    let mut g = GroupChild::spawn(cmd)?;
    let st = g.wait().await?;
    if !st.success() {
        let tail = crate::qemu::serial::tail(log, 15);
        bail!("command failed ({st}): {desc}\n--- last lines of {} ---\n{tail}", log.display());
    }
    Ok(())
}

/// Run a command and return its stdout (stderr included in the error on failure).
pub async fn output(cmd: &mut Command) -> Result<String> {
    let desc = describe(cmd);
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let out = cmd.output().await.with_context(|| format!("starting {desc}"))?;
    if !out.status.success() {
        bail!("command failed ({}): {desc}\n{}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn describe(cmd: &Command) -> String {
    let c = cmd.as_std();
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
