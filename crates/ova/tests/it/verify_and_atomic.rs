//! `ova verify` must catch real damage (each case built with external tools: GNU tar, sha256sum,
//! truncate), and an export that dies or fails midway must leave nothing at the final path.
use crate::common;
use common::*;
use mdxconf_ova::export_ova;
use mdxconf_ova::verify::verify;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn good_ova(dir: &Path) -> PathBuf {
    let src = dir.join("src.raw");
    raw_image(&src, 48 * MIB, &[(0, 3 * MIB as usize), (40 * MIB, MIB as usize)]);
    let ova = dir.join("v.ova");
    export_ova(&spec(&src, "v", &ova)).unwrap();
    verify(&ova, true).unwrap();
    ova
}

/// A good OVA and its members unpacked into `dir/x`, for tests that damage one member and repack.
fn good_ova_unpacked(dir: &Path) -> (PathBuf, PathBuf) {
    let ova = good_ova(dir);
    let x = dir.join("x");
    std::fs::create_dir(&x).unwrap();
    run(Command::new("tar").arg("-xf").arg(&ova).arg("-C").arg(&x));
    (ova, x)
}

fn verify_err(ova: &Path) -> String {
    format!("{:#}", verify(ova, true).expect_err("verify accepted a damaged OVA"))
}

/// Repack members in the given order with GNU tar.
fn repack(dir: &Path, out: &Path, members: &[&str]) {
    run(Command::new("tar").arg("--format=gnu").arg("-cf").arg(out).arg("-C").arg(dir).args(members));
}

/// Recomputes v.mf with sha256sum so only the damage under test remains.
fn rewrite_manifest(x: &Path) {
    let sums = run(Command::new("sha256sum").arg("v.ovf").arg("v-disk1.vmdk").current_dir(x));
    let mf: String = sums.lines().map(|l| l.split_once("  ").unwrap()).map(|(h, n)| format!("SHA256({n})= {h}\n")).collect();
    std::fs::write(x.join("v.mf"), mf).unwrap();
}

fn unpack(ova: &Path, dir: &Path) -> PathBuf {
    let x = dir.join("x");
    std::fs::create_dir(&x).unwrap();
    run(Command::new("tar").arg("-xf").arg(ova).arg("-C").arg(&x));
    x
}

#[test]
fn detects_dangling_disk_reference_in_hardware() {
    let dir = tempfile::tempdir().unwrap();
    let ova = good_ova(dir.path());
    let x = unpack(&ova, dir.path());
    let ovf = std::fs::read_to_string(x.join("v.ovf")).unwrap();
    std::fs::write(x.join("v.ovf"), ovf.replace("ovf:/disk/vmdisk1", "ovf:/disk/vmdisk9")).unwrap();
    rewrite_manifest(&x);
    let bad = dir.path().join("bad.ova");
    repack(&x, &bad, &["v.ovf", "v.mf", "v-disk1.vmdk"]);
    let e = verify_err(&bad);
    assert!(e.contains("HostResource \"ovf:/disk/vmdisk9\" names no Disk"), "{e}");
}

#[test]
fn detects_corrupted_manifest_hash() {
    let dir = tempfile::tempdir().unwrap();
    let ova = good_ova(dir.path());
    // Flip one hex digit of the VMDK's hash inside the manifest member, in place.
    let bytes = std::fs::read(&ova).unwrap();
    let needle = b"SHA256(v-disk1.vmdk)= ";
    let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap() + needle.len();
    let flipped = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::OpenOptions::new().write(true).open(&ova).unwrap().write_all_at(&[flipped], at as u64).unwrap();
    let e = verify_err(&ova);
    assert!(e.contains("SHA-256 mismatch for v-disk1.vmdk"), "{e}");
}

#[test]
fn detects_wrong_member_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_, x) = good_ova_unpacked(dir.path());

    let mf_first = dir.path().join("mf_first.ova");
    repack(&x, &mf_first, &["v.mf", "v.ovf", "v-disk1.vmdk"]);
    let e = verify_err(&mf_first);
    assert!(e.contains("first member is \"v.mf\""), "{e}");

    let disk_second = dir.path().join("disk_second.ova");
    repack(&x, &disk_second, &["v.ovf", "v-disk1.vmdk", "v.mf"]);
    let e = verify_err(&disk_second);
    assert!(e.contains("second member is \"v-disk1.vmdk\""), "{e}");

    // The same members in the right order pass: GNU tar's own archive is accepted.
    let ok = dir.path().join("ok.ova");
    repack(&x, &ok, &["v.ovf", "v.mf", "v-disk1.vmdk"]);
    verify(&ok, true).unwrap();
}

#[test]
fn detects_truncated_vmdk_even_with_a_matching_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (ova, x) = good_ova_unpacked(dir.path());
    // Cut the end (footer + end-of-stream), then make the manifest and ovf:size agree so only the VMDK
    // structure check can notice.
    let vmdk = x.join("v-disk1.vmdk");
    let len = std::fs::metadata(&vmdk).unwrap().len();
    run(Command::new("truncate").arg("-s").arg((len - 4096).to_string()).arg(&vmdk));
    let ovf = std::fs::read_to_string(x.join("v.ovf")).unwrap();
    std::fs::write(x.join("v.ovf"), ovf.replace(&format!("ovf:size=\"{len}\""), &format!("ovf:size=\"{}\"", len - 4096))).unwrap();
    rewrite_manifest(&x);
    let bad = dir.path().join("bad.ova");
    repack(&x, &bad, &["v.ovf", "v.mf", "v-disk1.vmdk"]);
    let e = verify_err(&bad);
    assert!(e.contains("v-disk1.vmdk:") && e.contains("stream truncated"), "{e}");

    // A truncated OVA file (cut inside the disk member) is reported as such.
    let cut = dir.path().join("cut.ova");
    std::fs::copy(&ova, &cut).unwrap();
    let l = std::fs::metadata(&cut).unwrap().len();
    run(Command::new("truncate").arg("-s").arg((l - 100_000).to_string()).arg(&cut));
    let e = verify_err(&cut);
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn detects_corrupted_grain_data() {
    let dir = tempfile::tempdir().unwrap();
    let (_, x) = good_ova_unpacked(dir.path());
    // Damage compressed bytes of the first grain (sector 128 + marker) and re-hash.
    let vmdk = x.join("v-disk1.vmdk");
    let f = std::fs::OpenOptions::new().write(true).open(&vmdk).unwrap();
    f.write_all_at(&[0xff; 64], 128 * 512 + 40).unwrap();
    rewrite_manifest(&x);
    let bad = dir.path().join("bad.ova");
    repack(&x, &bad, &["v.ovf", "v.mf", "v-disk1.vmdk"]);
    let e = verify_err(&bad);
    assert!(e.contains("grain at sector 128"), "{e}");
}

/// A marker whose value would wrap the stream position (u64::MAX sectors to skip) is an error, found
/// at once. Before, `s += 1 + val` wrapped to the same sector and `ova verify` spun forever.
#[test]
fn a_marker_skipping_past_the_end_is_an_error_not_an_endless_walk() {
    let dir = tempfile::tempdir().unwrap();
    let (_, x) = good_ova_unpacked(dir.path());
    let vmdk = x.join("v-disk1.vmdk");
    let f = std::fs::OpenOptions::new().read(true).write(true).open(&vmdk).unwrap();
    // walk the grain markers from the first grain (sector 128) to the last one
    let (mut s, mut last) = (128u64, 0u64);
    loop {
        let mut b = [0u8; 16];
        f.read_exact_at(&mut b, s * 512).unwrap();
        let size = u32::from_le_bytes(b[8..12].try_into().unwrap()) as u64;
        if size == 0 {
            break;
        }
        last = s;
        s += (12 + size).div_ceil(512);
    }
    // the last grain's marker now claims to be a grain-table marker covering u64::MAX sectors
    let mut m = [0u8; 16];
    m[0..8].copy_from_slice(&u64::MAX.to_le_bytes());
    m[12..16].copy_from_slice(&1u32.to_le_bytes());
    f.write_all_at(&m, last * 512).unwrap();
    rewrite_manifest(&x);
    let bad = dir.path().join("bad.ova");
    repack(&x, &bad, &["v.ovf", "v.mf", "v-disk1.vmdk"]);
    let started = Instant::now();
    let e = verify_err(&bad);
    assert!(e.contains("past the end"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The disk read back from the stream by mdxconf's own reader (what `image test` boots) equals the
/// source; an odd sector count is rounded up to a whole KiB, as the OVF capacity states.
#[test]
fn the_reader_gives_back_the_source_disk_and_capacity_is_whole_kib() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("odd.raw");
    raw_image(&src, 3 * MIB + 512, &[(0, 100_000), (2 * MIB + 3, 70_000), (3 * MIB, 512)]);
    let ova = dir.path().join("odd.ova");
    let r = export_ova(&spec(&src, "odd", &ova)).unwrap();
    assert_eq!(r.capacity, 3 * MIB + 1024);
    let report = verify(&ova, true).unwrap();
    let ovf_m = report.members.iter().find(|m| m.name == "odd.ovf").unwrap();
    let f = std::fs::File::open(&ova).unwrap();
    let mut text = vec![0u8; ovf_m.size as usize];
    f.read_exact_at(&mut text, ovf_m.offset).unwrap();
    let d = mdxconf_ova::descriptor::parse(&String::from_utf8_lossy(&text)).unwrap();
    assert_eq!(d.disk_capacity, 3 * MIB + 1024);
    assert_eq!(d.disk_capacity % 1024, 0);
    let disk = report.members.iter().find(|m| m.name.ends_with(".vmdk")).unwrap();
    let out = dir.path().join("back.raw");
    let o = std::fs::File::create(&out).unwrap();
    mdxconf_ova::vmdk::reader::extract_raw(&mdxconf_ova::vmdk::reader::Region { file: &f, offset: disk.offset, len: disk.size }, &o).unwrap();
    let (a, b) = (std::fs::read(&src).unwrap(), std::fs::read(&out).unwrap());
    assert_eq!(b.len() as u64, 3 * MIB + 1024);
    assert!(b[..a.len()] == a[..], "read-back data differs from the source");
    assert!(b[a.len()..].iter().all(|&x| x == 0), "padding is zeros");
    // qemu-img agrees with mdxconf's reader
    let vmdk = extract(&ova, "odd-disk1.vmdk", dir.path());
    qemu_img_compare(&out, &vmdk);
}

const CHILD_ENV: &str = "MDXCONF_OVA_TEST_CHILD_EXPORT";

/// Child half of `killed_export_leaves_nothing`: runs a slow export when re-executed with CHILD_ENV.
#[test]
#[ignore = "helper process for killed_export_leaves_nothing, which runs it"]
fn child_export_process() {
    let Ok(args) = std::env::var(CHILD_ENV) else { return };
    let (src, out) = args.split_once('\n').unwrap();
    let mut s = spec(Path::new(src), "slow", Path::new(out));
    s.threads = Some(1);
    s.compression_level = 9;
    export_ova(&s).unwrap();
}

#[test]
fn killed_export_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.raw");
    raw_image(&src, 256 * MIB, &[(0, 128 * MIB as usize)]);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("slow.ova");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "verify_and_atomic::child_export_process", "--ignored", "--nocapture"])
        .env(CHILD_ENV, format!("{}\n{}", src.display(), out.display()))
        .spawn()
        .unwrap();
    // Wait until the export has started writing (its open file shows up in /proc), then kill it.
    let started = Instant::now();
    let fd_dir = format!("/proc/{}/fd", child.id());
    loop {
        let writing = std::fs::read_dir(&fd_dir).map(|d| d.flatten().any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.starts_with(&out_dir)))).unwrap_or(false);
        if writing {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "export finished before it could be interrupted");
        assert!(started.elapsed() < Duration::from_secs(60), "export never opened its output");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "export finished before it could be interrupted");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "interrupted export left a file at the final path");
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "interrupted export left files behind: {left:?}");
}

#[test]
fn failing_export_removes_its_output_and_keeps_an_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("base.raw");
    raw_image(&raw, 32 * MIB, &[(0, 32 * MIB as usize)]);
    let q = dir.path().join("cut.qcow2");
    run(Command::new("qemu-img").args(["convert", "-q", "-O", "qcow2"]).arg(&raw).arg(&q));
    // Cut the qcow2 so the last data clusters lie beyond its end: reads fail midway through the export.
    let len = std::fs::metadata(&q).unwrap().len();
    run(Command::new("truncate").arg("-s").arg((len - 4 * MIB).to_string()).arg(&q));
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("cut.ova");
    std::fs::write(&out, b"previous export").unwrap();
    let err = export_ova(&spec(&q, "cut", &out)).unwrap_err();
    assert!(format!("{err:#}").contains("read cluster"), "{err:#}");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous export", "failed export replaced the old file");
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "temporary files left behind: {left:?}");
}
