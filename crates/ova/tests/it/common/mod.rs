//! Shared helpers for the OVA integration tests: build source images with qemu-img/qemu-io, run
//! external validators, extract members with GNU tar.
#![allow(dead_code)]
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use mdxconf_ova::{ExportSpec, InputFormat};

/// Runs a command, panicking with its output if it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}", out.status, String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deterministic pseudo-random bytes (xorshift64*), partly compressible: every other 4 KiB block is text-like.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        if (out.len() / 4096) % 2 == 0 {
            out.extend_from_slice(&v.to_le_bytes());
        } else {
            out.extend(v.to_le_bytes().iter().map(|b| b"mdxconf ova test "[(*b % 17) as usize]));
        }
    }
    out.truncate(len);
    out
}

/// A sparse raw image of `size` bytes with data written at each `(offset, len)`.
pub fn raw_image(path: &Path, size: u64, writes: &[(u64, usize)]) {
    run(Command::new("qemu-img").args(["create", "-q", "-f", "raw"]).arg(path).arg(size.to_string()));
    let f = OpenOptions::new().write(true).open(path).unwrap();
    for (i, &(off, len)) in writes.iter().enumerate() {
        f.write_all_at(&pattern(i as u64 + 1, len), off).unwrap();
    }
}

pub fn spec(disk: &Path, name: &str, out: &Path) -> ExportSpec {
    let mut s = ExportSpec::new(disk.to_path_buf(), name, out.to_path_buf());
    s.format = InputFormat::Auto;
    s.mtime = 1_700_000_000;
    s
}

/// Extracts one member with GNU tar (an independent tar reader) into `dir`.
pub fn extract(ova: &Path, member: &str, dir: &Path) -> PathBuf {
    run(Command::new("tar").arg("-xf").arg(ova).arg("-C").arg(dir).arg(member));
    dir.join(member)
}

/// `tar -tf` listing (member names in archive order).
pub fn list(ova: &Path) -> Vec<String> {
    run(Command::new("tar").arg("-tf").arg(ova)).lines().map(str::to_string).collect()
}

pub fn qemu_img_check(img: &Path) {
    run(Command::new("qemu-img").args(["check", "-q"]).arg(img));
}

/// `qemu-img compare` (exit 0 = identical content, 1 = differ); `-s` = strict size check is not used because
/// the VMDK capacity is rounded up to a whole sector.
pub fn qemu_img_compare(a: &Path, b: &Path) {
    run(Command::new("qemu-img").arg("compare").arg(a).arg(b));
}
