//! `ova verify` refuses what an importer refuses or reads differently (issue 16.4): a good OVA from the
//! crate's own writer, damaged one way per case and repacked by hand (raw tar headers, so names and
//! member types the tar crate's Builder would refuse can be written), must fail naming the problem;
//! every OVA the writer makes still verifies, with the schema check run.
use crate::common;
use common::*;
use mdxconf_ova::export_ova;
use mdxconf_ova::verify::verify;
use sha2::{Digest, Sha256};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
const OVF: &str = "v.ovf";
const MF: &str = "v.mf";
const VMDK: &str = "v-disk1.vmdk";

/// The three members of a good OVA made by the writer.
struct Good {
    ovf: String,
    vmdk: Vec<u8>,
}

fn good(dir: &Path) -> Good {
    let src = dir.join("src.raw");
    raw_image(&src, 40 * MIB, &[(0, 2 * MIB as usize), (35 * MIB, 300_000)]);
    let ova = dir.join("good.ova");
    export_ova(&spec(&src, "v", &ova)).unwrap();
    verify(&ova, true).unwrap();
    let f = std::fs::File::open(&ova).unwrap();
    let read = |name: &str| {
        let m = mdxconf_ova::verify::list_members(&ova).unwrap().into_iter().find(|m| m.name == name).unwrap();
        let mut b = vec![0u8; m.size as usize];
        f.read_exact_at(&mut b, m.offset).unwrap();
        b
    };
    Good { ovf: String::from_utf8(read(OVF)).unwrap(), vmdk: read(VMDK) }
}

/// A tar header with the name bytes written as they are (no checks), `kind` the type flag.
fn header(name: &str, size: u64, kind: u8) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::new(kind));
    h.set_cksum();
    *h.as_bytes()
}

/// One member: its header and data.
struct Entry(Vec<u8>, Vec<u8>);

fn file(name: &str, data: &[u8]) -> Entry {
    Entry(header(name, data.len() as u64, b'0').to_vec(), data.to_vec())
}

fn write_tar(path: &Path, entries: &[Entry]) {
    let mut out = Vec::new();
    for Entry(h, data) in entries {
        out.extend_from_slice(h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    std::fs::write(path, out).unwrap();
}

fn sha(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn manifest(members: &[(&str, &[u8])]) -> Vec<u8> {
    members.iter().map(|(n, d)| format!("SHA256({n})= {}\n", sha(d))).collect::<String>().into_bytes()
}

/// `ovf`, a manifest made for it and the disk, and the disk: the usual three members.
fn pack(dir: &Path, ovf: &str, vmdk: &[u8]) -> PathBuf {
    let out = dir.join("bad.ova");
    let mf = manifest(&[(OVF, ovf.as_bytes()), (VMDK, vmdk)]);
    write_tar(&out, &[file(OVF, ovf.as_bytes()), file(MF, &mf), file(VMDK, vmdk)]);
    out
}

/// The good OVA with its disk damaged by `damage` (ovf:size and the manifest made to agree).
fn with_vmdk(dir: &Path, damage: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let g = good(dir);
    let mut vmdk = g.vmdk.clone();
    damage(&mut vmdk);
    let ovf = g.ovf.replace(&format!("ovf:size=\"{}\"", g.vmdk.len()), &format!("ovf:size=\"{}\"", vmdk.len()));
    pack(dir, &ovf, &vmdk)
}

/// The good OVA with its descriptor edited by `edit` (the manifest made to agree).
fn with_ovf(dir: &Path, edit: impl FnOnce(&str) -> String) -> PathBuf {
    let g = good(dir);
    let ovf = edit(&g.ovf);
    assert_ne!(ovf, g.ovf, "the edit changed nothing");
    pack(dir, &ovf, &g.vmdk)
}

fn rejected(ova: &Path) -> String {
    format!("{:#}", verify(ova, true).expect_err("verify accepted a damaged OVA"))
}

fn assert_has(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "expected {p:?} in: {e}");
    }
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

/// The footer is the second-to-last sector of a streamOptimized VMDK.
fn footer_at(vmdk: &[u8]) -> usize {
    vmdk.len() - 1024
}

// ---------------------------------------------------------------- tar layer

/// The disk renamed to `name` in the archive, the References href and the manifest following it, so
/// that only the name itself is wrong.
fn renamed_disk(dir: &Path, name: &str) -> PathBuf {
    let g = good(dir);
    let ovf = g.ovf.replace(&format!("ovf:href=\"{VMDK}\""), &format!("ovf:href=\"{name}\""));
    let mf = manifest(&[(OVF, ovf.as_bytes()), (name, &g.vmdk)]);
    let out = dir.join("bad.ova");
    write_tar(&out, &[file(OVF, ovf.as_bytes()), file(MF, &mf), file(name, &g.vmdk)]);
    out
}

#[test]
fn verify_rejects_a_member_name_with_dotdot() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&renamed_disk(dir.path(), "../v-disk1.vmdk"));
    assert_has(&e, &["\"../v-disk1.vmdk\"", "`..`"]);
}

#[test]
fn verify_rejects_an_absolute_member_name() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&renamed_disk(dir.path(), "/tmp/v-disk1.vmdk"));
    assert_has(&e, &["\"/tmp/v-disk1.vmdk\"", "absolute path"]);
}

#[test]
fn verify_rejects_a_pax_header_that_renames_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    // a reader honouring PAX sees v-disk1.vmdk, one ignoring it sees innocent.bin
    let rec = format!("path={VMDK}\n");
    let mut len = rec.len() + 3;
    len += format!("{len} ").len() - 3;
    let pax = format!("{len} {rec}");
    assert_eq!(pax.len(), len);
    let mf = manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk)]);
    let out = dir.path().join("bad.ova");
    write_tar(
        &out,
        &[file(OVF, g.ovf.as_bytes()), file(MF, &mf), Entry(header("PaxHeaders/innocent.bin", pax.len() as u64, b'x').to_vec(), pax.into_bytes()), file("innocent.bin", &g.vmdk)],
    );
    let e = rejected(&out);
    assert_has(&e, &["PAX extended header", "renames the next member to \"v-disk1.vmdk\""]);
}

#[test]
fn verify_rejects_a_gnu_long_name_block() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let long = format!("{VMDK}\0");
    let mf = manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk)]);
    let out = dir.path().join("bad.ova");
    write_tar(&out, &[file(OVF, g.ovf.as_bytes()), file(MF, &mf), Entry(header("././@LongLink", long.len() as u64, b'L').to_vec(), long.into_bytes()), file("x", &g.vmdk)]);
    let e = rejected(&out);
    assert_has(&e, &["GNU long-name block", "\"v-disk1.vmdk\""]);
}

#[test]
fn verify_rejects_a_link_member() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let mf = manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk)]);
    let mut h = tar::Header::from_byte_slice(&header("evil", 0, b'2')).clone();
    h.as_old_mut().linkname[..11].copy_from_slice(b"/etc/passwd");
    h.set_cksum();
    let link = *h.as_bytes();
    let out = dir.path().join("bad.ova");
    write_tar(&out, &[file(OVF, g.ovf.as_bytes()), file(MF, &mf), file(VMDK, &g.vmdk), Entry(link.to_vec(), vec![])]);
    let e = rejected(&out);
    assert_has(&e, &["\"evil\"", "is a link (to \"/etc/passwd\")"]);
}

#[test]
fn verify_rejects_a_duplicate_member_name() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let mf = manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk)]);
    let out = dir.path().join("bad.ova");
    // a second descriptor at the end: which one an importer takes depends on how it reads the tar
    write_tar(&out, &[file(OVF, g.ovf.as_bytes()), file(MF, &mf), file(VMDK, &g.vmdk), file(OVF, g.ovf.as_bytes())]);
    let e = rejected(&out);
    assert_has(&e, &["tar member \"v.ovf\"", "duplicate name"]);
}

#[test]
fn verify_rejects_a_member_the_descriptor_does_not_reference() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let notes = b"not in References\n";
    let mf = manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk), ("notes.txt", notes)]);
    let out = dir.path().join("bad.ova");
    write_tar(&out, &[file(OVF, g.ovf.as_bytes()), file(MF, &mf), file(VMDK, &g.vmdk), file("notes.txt", notes)]);
    let e = rejected(&out);
    assert_has(&e, &["member \"notes.txt\" is not referenced by the descriptor"]);
}

#[test]
fn verify_rejects_files_out_of_references_order() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let iso = vec![7u8; 2048];
    let ovf = g.ovf.replace("  </References>", &format!("    <File ovf:href=\"seed.iso\" ovf:id=\"file2\" ovf:size=\"{}\"/>\n  </References>", iso.len()));
    let mf = manifest(&[(OVF, ovf.as_bytes()), (VMDK, &g.vmdk), ("seed.iso", &iso)]);
    let out = dir.path().join("bad.ova");
    write_tar(&out, &[file(OVF, ovf.as_bytes()), file(MF, &mf), file("seed.iso", &iso), file(VMDK, &g.vmdk)]);
    let e = rejected(&out);
    assert_has(&e, &["References order requires [\"v-disk1.vmdk\", \"seed.iso\"]"]);
    // the same members in References order pass
    write_tar(&out, &[file(OVF, ovf.as_bytes()), file(MF, &mf), file(VMDK, &g.vmdk), file("seed.iso", &iso)]);
    verify(&out, true).unwrap();
}

// ---------------------------------------------------------------- VMDK header, footer, descriptor

#[test]
fn verify_rejects_vmdk_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| put(v, 4, &1u32.to_le_bytes())));
    assert_has(&e, &["v-disk1.vmdk: header version: expected 3, found 1"]);
}

#[test]
fn verify_rejects_an_unsupported_grain_size() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| put(v, 20, &256u64.to_le_bytes())));
    assert_has(&e, &["header grainSize: expected 128 sectors", "found 256"]);
    let e = rejected(&with_vmdk(dir.path(), |v| put(v, 20, &100u64.to_le_bytes())));
    assert_has(&e, &["header grainSize: expected a power of two", "found 100"]);
}

#[test]
fn verify_rejects_a_compression_other_than_deflate() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| put(v, 77, &0u16.to_le_bytes())));
    assert_has(&e, &["header compressAlgorithm: expected 1 (deflate), found 0"]);
}

#[test]
fn verify_rejects_flags_without_the_newline_test_bit() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| {
        let at = footer_at(v);
        for base in [0, at] {
            put(v, base + 8, &((1u32 << 16) | (1 << 17)).to_le_bytes());
        }
    }));
    assert_has(&e, &["header flags: expected 0x30001", "found 0x30000", "missing bits 0x1"]);
}

#[test]
fn verify_rejects_damaged_newline_detection_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| put(v, 75, b"\n")));
    assert_has(&e, &["header newline-detection bytes (offset 73): expected 0a 20 0d 0a, found 0a200a0a"]);
}

/// qemu reads the footer in place of the header: a footer that disagrees is read differently.
#[test]
fn verify_rejects_a_footer_that_disagrees_with_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| {
        let at = footer_at(v);
        put(v, at + 4, &1u32.to_le_bytes())
    }));
    assert_has(&e, &["footer version: expected 3, found 1"]);
    let e = rejected(&with_vmdk(dir.path(), |v| {
        let at = footer_at(v);
        put(v, at + 20, &256u64.to_le_bytes())
    }));
    assert_has(&e, &["footer grainSize: expected 128 sectors", "found 256"]);
}

#[test]
fn verify_rejects_a_leading_header_that_does_not_defer_to_the_footer() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_vmdk(dir.path(), |v| {
        let at = footer_at(v);
        let gd: [u8; 8] = v[at + 56..at + 64].try_into().unwrap();
        put(v, 56, &gd)
    }));
    assert_has(&e, &["header gdOffset: expected 0xffffffffffffffff"]);
}

#[test]
fn verify_rejects_a_descriptor_that_is_not_stream_optimized() {
    let dir = tempfile::tempdir().unwrap();
    // replaces text in the embedded descriptor, taking the extra bytes from its zero padding so
    // nothing after it moves
    let swap = |v: &mut Vec<u8>, from: &[u8], to: &[u8]| {
        let at = v.windows(from.len()).position(|w| w == from).unwrap();
        v.splice(at..at + from.len(), to.iter().copied());
        let pad = at + to.len() + v[at + to.len()..].iter().position(|&b| b == 0).unwrap();
        v.drain(pad..pad + (to.len() - from.len()));
    };
    let e = rejected(&with_vmdk(dir.path(), |v| swap(v, b"createType=\"streamOptimized\"", b"createType=\"monolithicFlat\"\n")));
    assert_has(&e, &["descriptor createType: expected \"streamOptimized\", found \"monolithicFlat\""]);
    // qemu skips an extent line that is not RW
    let e = rejected(&with_vmdk(dir.path(), |v| swap(v, b"\nRW ", b"\nRDONLY ")));
    assert_has(&e, &["descriptor extent access: expected RW, found RDONLY"]);
}

#[test]
fn verify_rejects_a_truncated_footer() {
    let dir = tempfile::tempdir().unwrap();
    // the footer and the end-of-stream marker cut off, ovf:size and the manifest made to agree
    let e = rejected(&with_vmdk(dir.path(), |v| v.truncate(v.len() - 1024)));
    assert_has(&e, &["end-of-stream marker (last sector): expected value 0 size 0 type 0", "stream truncated"]);
}

#[test]
fn verify_rejects_a_capacity_that_disagrees_with_the_ovf() {
    let dir = tempfile::tempdir().unwrap();
    let cap = 40 * MIB;
    let e = rejected(&with_ovf(dir.path(), |o| o.replace(&format!("ovf:capacity=\"{cap}\""), &format!("ovf:capacity=\"{}\"", cap + 1024))));
    assert_has(&e, &[&format!("ovf:capacity of v-disk1.vmdk: expected {cap} bytes (the VMDK header's capacity), found {} bytes", cap + 1024)]);
}

#[test]
fn verify_rejects_a_populated_size_that_disagrees_with_the_grains() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_ovf(dir.path(), |o| {
        let at = o.find("ovf:populatedSize=\"").unwrap() + "ovf:populatedSize=\"".len();
        format!("{}1{}", &o[..at], &o[at..])
    }));
    assert_has(&e, &["ovf:populatedSize of v-disk1.vmdk: expected"]);
}

/// Header fields of u64::MAX (offsets, sizes, capacity) must give an error, never a panic (overflow),
/// an endless walk or an allocation of that size.
#[test]
fn verify_survives_u64_max_in_every_header_field() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let footer = footer_at(&g.vmdk);
    for base in [0, footer] {
        for field in [12usize, 20, 28, 36, 48, 56, 64] {
            let mut v = g.vmdk.clone();
            put(&mut v, base + field, &u64::MAX.to_le_bytes());
            if base == 0 && field == 56 {
                continue; // the leading header's gdOffset is u64::MAX already
            }
            let ova = pack(dir.path(), &g.ovf, &v);
            let started = Instant::now();
            let e = rejected(&ova);
            assert!(started.elapsed() < Duration::from_secs(10), "field {field} at {base}: took {:?}", started.elapsed());
            assert!(e.contains("v-disk1.vmdk:"), "field {field} at {base}: {e}");
        }
    }
}

// ---------------------------------------------------------------- manifest and descriptor

#[test]
fn verify_rejects_a_manifest_digest_off_by_one_char() {
    let dir = tempfile::tempdir().unwrap();
    let g = good(dir.path());
    let mut mf = String::from_utf8(manifest(&[(OVF, g.ovf.as_bytes()), (VMDK, &g.vmdk)])).unwrap();
    let at = mf.find(")= ").unwrap() + 3 + 63; // last hex digit of the descriptor's digest
    let flipped = if &mf[at..at + 1] == "0" { "1" } else { "0" };
    mf.replace_range(at..at + 1, flipped);
    let out = dir.path().join("bad.ova");
    write_tar(&out, &[file(OVF, g.ovf.as_bytes()), file(MF, mf.as_bytes()), file(VMDK, &g.vmdk)]);
    let e = rejected(&out);
    assert_has(&e, &["v.mf: line 1: SHA-256 mismatch for v.ovf"]);
}

#[test]
fn verify_rejects_an_ovf_failing_the_dmtf_schema() {
    let dir = tempfile::tempdir().unwrap();
    // rasd elements out of the schema's order: structurally fine, refused by the schema (and vSphere)
    let e = rejected(&with_ovf(dir.path(), |o| {
        o.replacen(
            "<rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n        <rasd:Description>Number of Virtual CPUs</rasd:Description>",
            "<rasd:Description>Number of Virtual CPUs</rasd:Description>\n        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>",
            1,
        )
    }));
    assert_has(&e, &["v.ovf: fails the bundled DMTF OVF envelope schema", "AllocationUnits"]);
}

#[test]
fn verify_rejects_an_ovf_without_a_virtual_system() {
    let dir = tempfile::tempdir().unwrap();
    let e = rejected(&with_ovf(dir.path(), |o| {
        let (a, b) = (o.find("  <VirtualSystem ").unwrap(), o.find("  </VirtualSystem>\n").unwrap() + "  </VirtualSystem>\n".len());
        format!("{}{}", &o[..a], &o[b..])
    }));
    assert_has(&e, &["v.ovf: Envelope has no VirtualSystem"]);
}

// ---------------------------------------------------------------- what the writer makes passes

/// Every combination the other tests export (both vSphere lines, both controllers, both firmwares,
/// with and without vApp options) verifies, and the report says the schema check ran.
#[test]
fn verify_accepts_every_ova_the_writer_makes_and_reports_the_schema_check() {
    use mdxconf_ova::verify::{verify_with, SchemaCheck, SchemaMode, VerifyOptions};
    use mdxconf_ova::{Controller, Firmware, VsphereVersion};
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.raw");
    raw_image(&src, 16 * MIB + 512, &[(0, 100_000), (9 * MIB, 70_000)]);
    let cases = [
        ("7.0", "ubuntu64Guest", Controller::Pvscsi, Firmware::Efi, 17, false),
        ("7.0u3", "ubuntu64Guest", Controller::Pvscsi, Firmware::Bios, 19, true),
        ("8.0u2", "debian12_64Guest", Controller::Nvme, Firmware::Efi, 21, true),
        ("8.0u2", "otherLinux64Guest", Controller::Nvme, Firmware::Bios, 21, false),
    ];
    for (i, (vsphere, os, controller, firmware, vmx, vapp)) in cases.into_iter().enumerate() {
        let name = format!("w{i}");
        let ova = dir.path().join(format!("{name}.ova"));
        let mut s = spec(&src, &name, &ova);
        s.vsphere = VsphereVersion::parse(vsphere).unwrap();
        s.vm.os_type = os.into();
        s.vm.controller = controller;
        s.vm.firmware = firmware;
        s.vm.vmx_version = vmx;
        s.vm.product = vapp.then(|| mdxconf_ova::vapp::cloud_init_product(&name, "1"));
        export_ova(&s).unwrap();
        let r = verify(&ova, true).unwrap_or_else(|e| panic!("{vsphere}/{controller:?}/{firmware:?}: {e:#}"));
        assert!(matches!(&r.schema, SchemaCheck::Passed { schema } if schema.contains("dsp8023")), "{:?}", r.schema);
        assert_eq!(r.disks.len(), 1);
        assert!(r.schema.to_string().starts_with("OVF schema: valid against"), "{}", r.schema);
        // skipping the schema check is said, not silent
        let off = verify_with(&ova, &VerifyOptions { inflate: false, schema: SchemaMode::Off }).unwrap();
        assert_eq!(off.schema.to_string(), "OVF schema: NOT CHECKED (--no-schema)");
    }
    // an explicit schema that cannot be read is an error, not a skipped check
    let ova = dir.path().join("w0.ova");
    let e = verify_with(&ova, &VerifyOptions { inflate: false, schema: SchemaMode::File(dir.path().join("missing.xsd")) }).unwrap_err();
    assert!(format!("{e:#}").contains("xmllint could not validate"), "{e:#}");
}
