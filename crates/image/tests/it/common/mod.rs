//! Shared helpers for the image tests: real QEMU (TCG here), real mmdebstrap, real SSH.
#![allow(dead_code)]
use std::path::PathBuf;

/// Test builds are cached here across runs to keep CI fast (override with MDXCONF_TEST_CACHE).
pub fn cache_dir() -> PathBuf {
    std::env::var("MDXCONF_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/var/tmp/mdxconf-test-cache"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Serialize the VM-heavy tests of one binary (2 cores shared by everything).
pub static VM_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn init_log() {
    let _ = tracing_subscriber_init();
}

fn tracing_subscriber_init() -> Option<()> {
    None
}

/// pids of qemu processes whose command line mentions `needle`.
pub fn qemu_pids_with(needle: &str) -> Vec<i32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let s = String::from_utf8_lossy(&c).replace('\0', " ");
            if s.contains("qemu-system") && s.contains(needle) && mdxconf_image::proc::pid_is_qemu(pid) {
                out.push(pid);
            }
        }
    }
    out
}
