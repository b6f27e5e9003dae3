//! Export real raw and qcow2 images, then check the VMDK inside the OVA with qemu-img (check + compare
//! against the source) and with GNU tar, plus `ova verify`; determinism; a > 8 GiB sparse disk.
use crate::common;
use common::*;
use mdxconf_ova::verify::verify;
use mdxconf_ova::{export_ova, InputFormat};
use std::process::Command;

const MIB: u64 = 1 << 20;

fn roundtrip(src: &std::path::Path, format: InputFormat, dir: &std::path::Path, name: &str) -> mdxconf_ova::ExportReport {
    let ova = dir.join(format!("{name}.ova"));
    let mut s = spec(src, name, &ova);
    s.format = format;
    let report = export_ova(&s).unwrap();
    verify(&ova, true).unwrap();
    assert_eq!(list(&ova), vec![format!("{name}.ovf"), format!("{name}.mf"), format!("{name}-disk1.vmdk")]);
    let vmdk = extract(&ova, &format!("{name}-disk1.vmdk"), dir);
    qemu_img_check(&vmdk);
    qemu_img_compare(src, &vmdk);
    let info = run(Command::new("qemu-img").args(["info", "--output=json"]).arg(&vmdk));
    assert!(info.contains("\"create-type\": \"streamOptimized\""), "{info}");
    report
}

#[test]
fn raw_source_roundtrips_through_qemu_img() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.raw");
    // Unaligned writes, a write straddling a 32 MiB grain-table boundary, and a size that is not a
    // multiple of the 64 KiB grain (last grain partial).
    raw_image(&src, 100 * MIB + 4096, &[(0, 70_000), (5 * MIB + 123, 3 * MIB as usize), (32 * MIB - 1000, 5000), (100 * MIB, 4096)]);
    let r = roundtrip(&src, InputFormat::Raw, dir.path(), "rawvm");
    assert_eq!(r.input_format, "raw");
    assert_eq!(r.capacity, 100 * MIB + 4096);
    // Only grains holding data are stored: the disk is mostly holes.
    assert!(r.grains < 100, "{} grains", r.grains);
}

#[test]
fn zero_data_in_a_raw_file_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("zeros.raw");
    // Allocated zeros (not a hole): SEEK_DATA reports data, the zero check must drop it.
    std::fs::write(&src, vec![0u8; 8 * MIB as usize]).unwrap();
    let r = roundtrip(&src, InputFormat::Auto, dir.path(), "zeros");
    assert_eq!(r.grains, 0);
}

#[test]
fn qcow2_sources_roundtrip_plain_compressed_and_zero_clusters() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("base.raw");
    raw_image(&raw, 64 * MIB, &[(MIB + 7, 2 * MIB as usize), (40 * MIB, 300_000), (64 * MIB - 4096, 4096)]);

    let plain = dir.path().join("plain.qcow2");
    run(Command::new("qemu-img").args(["convert", "-q", "-O", "qcow2"]).arg(&raw).arg(&plain));
    let r = roundtrip(&plain, InputFormat::Auto, dir.path(), "plain");
    assert_eq!(r.input_format, "qcow2");

    let compressed = dir.path().join("compressed.qcow2");
    run(Command::new("qemu-img").args(["convert", "-q", "-c", "-O", "qcow2"]).arg(&raw).arg(&compressed));
    roundtrip(&compressed, InputFormat::Qcow2, dir.path(), "compressed");

    // Zero-flagged clusters over data, and a non-default cluster size.
    let zeroed = dir.path().join("zeroed.qcow2");
    run(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-o", "cluster_size=16384"]).arg(&zeroed).arg("48M"));
    run(Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0xab 0 4M", "-c", "write -z 1M 1M", "-c", "write -P 0x5c 20M 65k"]).arg(&zeroed));
    let r = roundtrip(&zeroed, InputFormat::Qcow2, dir.path(), "zeroed");
    // 4 MiB written, 1 MiB of it zeroed again, 65 KiB at 20 MiB spanning two grains.
    assert_eq!(r.grains, 48 + 2);
}

#[test]
fn qcow2_with_backing_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    let top = dir.path().join("top.qcow2");
    run(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&base).arg("16M"));
    run(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"]).arg(&base).arg(&top));
    let out = dir.path().join("x.ova");
    let err = export_ova(&spec(&top, "x", &out)).unwrap_err();
    assert!(format!("{err:#}").contains("backing file"), "{err:#}");
    assert!(!out.exists());
}

#[test]
fn same_input_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.raw");
    raw_image(&src, 80 * MIB, &[(0, 5 * MIB as usize), (50 * MIB, MIB as usize)]);
    let a = dir.path().join("a.ova");
    let b = dir.path().join("b.ova");
    let mut sa = spec(&src, "det", &a);
    sa.threads = Some(1);
    let mut sb = spec(&src, "det", &b);
    sb.threads = Some(4); // different scheduling, same bytes
    export_ova(&sa).unwrap();
    export_ova(&sb).unwrap();
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(x.len(), y.len());
    assert!(x == y, "OVAs differ");
    // Headers: uid/gid 0, fixed mtime, empty owner names (GNU tar's verbose listing shows 0/0).
    let listing = run(Command::new("tar").args(["--numeric-owner", "-tvf"]).arg(&a));
    for line in listing.lines() {
        assert!(line.starts_with("-rw-r--r-- 0/0"), "{line}");
        assert!(line.contains("2023-11-14"), "{line}");
    }
}

/// 9 GiB sparse disk with data at the start, the middle and the end: capacity beyond 8 GiB and
/// grain-table indices beyond 32 bits of bytes; `qemu-img compare` against the source.
#[test]
fn nine_gib_sparse_disk_roundtrips() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.raw");
    let size = 9 * 1024 * MIB;
    raw_image(&src, size, &[(0, 2 * MIB as usize), (size / 2 + 12345, 3 * MIB as usize), (size - 2 * MIB, 2 * MIB as usize)]);
    let r = roundtrip(&src, InputFormat::Raw, dir.path(), "big");
    assert_eq!(r.capacity, size);
    // The OVF states the full capacity.
    let ovf = std::fs::read_to_string(extract(&dir.path().join("big.ova"), "big.ovf", dir.path())).unwrap();
    assert!(ovf.contains(&format!("ovf:capacity=\"{size}\"")), "{ovf}");
}
