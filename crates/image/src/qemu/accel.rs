//! Accelerator choice by experiment: /dev/kvm existing proves nothing (on some hosts KVM hangs while
//! decompressing a Linux kernel), so we boot a real kernel under KVM with no root fs and `panic=-1`;
//! reaching the kernel panic and exiting within the deadline means KVM works. Otherwise we use TCG and
//! say so. The verdict is cached per host boot (keyed by boot_id) so only the first build pays for it.
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn qemu_args(&self) -> Vec<String> {
        match self {
            Accel::Kvm => ["-accel", "kvm", "-cpu", "host"].map(String::from).into(),
            Accel::Tcg => vec!["-accel".into(), "tcg,thread=multi".into(), "-cpu".into(), tcg_cpu_model()],
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// The CPU model TCG emulates: MDXCONF_TCG_CPU, else `qemu64` (QEMU's own default, which Packer's qemu
/// builder also gets). Measured here: guests boot to SSH 10-20% sooner and gzip/sha256 run 25-40% faster
/// than with `-cpu max`, whose AVX/AVX2 paths (chosen by glibc, the kernel, zstd...) TCG emulates slowly.
/// Set e.g. MDXCONF_TCG_CPU=max for guest software that needs newer instructions.
pub fn tcg_cpu_model() -> String {
    std::env::var("MDXCONF_TCG_CPU").ok().filter(|m| !m.trim().is_empty()).unwrap_or_else(|| "qemu64".into())
}

#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub accel: Accel,
    /// Human explanation (logged).
    pub reason: String,
}

/// Kernels we can use for the probe boot (any bootable x86_64 Linux kernel image).
fn probe_kernel() -> Option<PathBuf> {
    if let Ok(k) = std::env::var("MDXCONF_PROBE_KERNEL") {
        return Some(k.into());
    }
    let candidates = ["/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux"];
    for c in candidates {
        if Path::new(c).exists() {
            return Some(c.into());
        }
    }
    // the host's own kernel
    let mut ks: Vec<PathBuf> =
        std::fs::read_dir("/boot").ok()?.flatten().map(|e| e.path()).filter(|p| p.file_name().map(|n| n.to_string_lossy().starts_with("vmlinuz")).unwrap_or(false)).collect();
    ks.sort();
    ks.pop()
}

/// Boot `kernel` with no root fs under KVM; Ok(true) if it reached the panic and exited within `deadline`.
pub async fn kvm_boots_linux(kernel: &Path, deadline: Duration) -> Result<(bool, String)> {
    let dir = tempfile::Builder::new().prefix("mdxconf-accel-").tempdir()?;
    let serial = dir.path().join("serial.log");
    let mut cmd = tokio::process::Command::new(super::qemu_binary());
    cmd.args(["-accel", "kvm", "-cpu", "host", "-m", "256", "-display", "none", "-nodefaults", "-no-reboot"]);
    cmd.arg("-kernel").arg(kernel).args(["-append", "console=ttyS0 panic=-1 loglevel=4"]);
    cmd.arg("-serial").arg(format!("file:{}", serial.display()));
    cmd.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut child = crate::proc::GroupChild::spawn(&mut cmd)?;
    let start = Instant::now();
    let waited = tokio::time::timeout(deadline, child.wait()).await;
    let log = String::from_utf8_lossy(&std::fs::read(&serial).unwrap_or_default()).into_owned();
    match waited {
        Ok(Ok(st)) => {
            let panicked = log.contains("Kernel panic") || log.contains("VFS:");
            if panicked {
                Ok((true, format!("KVM booted a Linux kernel to its expected panic in {:.1}s", start.elapsed().as_secs_f64())))
            } else {
                let mut err = String::new();
                if let Some(mut e) = child.child.stderr.take() {
                    use tokio::io::AsyncReadExt;
                    let _ = e.read_to_string(&mut err).await;
                }
                Ok((false, format!("QEMU with KVM exited ({st}) without booting Linux: {}", err.trim())))
            }
        }
        _ => {
            child.kill_group();
            Ok((false, format!("KVM did not boot a Linux kernel within {}s (guest hung)", deadline.as_secs())))
        }
    }
}

/// Probe without any cache.
pub async fn probe_uncached(deadline: Duration) -> ProbeResult {
    if std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
        return ProbeResult { accel: Accel::Tcg, reason: "/dev/kvm is not usable; using TCG (software emulation, slow)".into() };
    }
    let Some(kernel) = probe_kernel() else {
        return ProbeResult {
            accel: Accel::Tcg,
            reason: "no Linux kernel found to probe KVM with (install debian-installer-12-netboot-amd64 or set MDXCONF_PROBE_KERNEL); using TCG".into(),
        };
    };
    match kvm_boots_linux(&kernel, deadline).await {
        Ok((true, why)) => ProbeResult { accel: Accel::Kvm, reason: why },
        Ok((false, why)) => ProbeResult { accel: Accel::Tcg, reason: format!("{why}; falling back to TCG (software emulation, slow)") },
        Err(e) => ProbeResult { accel: Accel::Tcg, reason: format!("KVM probe failed to run ({e:#}); falling back to TCG") },
    }
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

fn cache_file() -> PathBuf {
    std::env::temp_dir().join(format!("mdxconf-accel-{}.json", boot_id()))
}

static PROBED: OnceCell<ProbeResult> = OnceCell::const_new();

/// The accelerator to use: `MDXCONF_ACCEL=kvm|tcg` forces one; otherwise the probe verdict, cached for
/// this process and (in a file keyed by the host's boot_id) for this host boot. Logs the verdict.
pub async fn detect() -> ProbeResult {
    PROBED
        .get_or_init(|| async {
            if let Ok(v) = std::env::var("MDXCONF_ACCEL") {
                let accel = if v.eq_ignore_ascii_case("kvm") { Accel::Kvm } else { Accel::Tcg };
                return ProbeResult { accel, reason: format!("accelerator forced by MDXCONF_ACCEL={v}") };
            }
            let cf = cache_file();
            if let Ok(text) = std::fs::read_to_string(&cf) {
                if let Ok((accel, reason)) = serde_json::from_str::<(Accel, String)>(&text) {
                    return ProbeResult { accel, reason: format!("{reason} (cached probe result for this boot)") };
                }
            }
            let r = probe_uncached(Duration::from_secs(20)).await;
            let _ = crate::util::write_atomic(&cf, serde_json::to_string(&(r.accel, &r.reason)).unwrap_or_default().as_bytes());
            r
        })
        .await
        .clone()
}
