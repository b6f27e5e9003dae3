//! virt-v2v (libguestfs) imports an OVA exported from a real Debian 12 guest disk: it parses the OVF,
//! checks the manifest, reads the streamOptimized VMDK through qemu, inspects the guest OS and
//! converts it. Under TCG this takes several minutes; it runs in the normal test suite on purpose.
use crate::common;
use common::*;
use mdxconf_ova::{export_ova, Firmware};
use std::path::Path;
use std::process::Command;

#[test]
fn virt_v2v_accepts_ova_of_a_debian_guest() {
    // Builds (or reuses from /var/tmp/mdxconf-test-cache) a Debian 12 raw disk with mmdebstrap.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/debian_guest.sh");
    let image = run(Command::new("bash").arg(&script));
    // The path is the script's last line of output (tools it runs may print progress on stdout too).
    let image = Path::new(image.lines().last().unwrap_or("").trim());
    assert!(image.exists(), "guest image {image:?} missing");

    let dir = tempfile::tempdir().unwrap();
    let ova = dir.path().join("deb12.ova");
    let mut s = spec(image, "deb12", &ova);
    s.vm.os_type = "debian12_64Guest".into();
    s.vsphere = mdxconf_ova::VsphereVersion::parse("8.0").unwrap();
    s.vm.vmx_version = 20;
    s.vm.firmware = Firmware::Bios;
    s.vm.memory_mib = 1024;
    export_ova(&s).unwrap();

    let out = Command::new("virt-v2v")
        .args(["-i", "ova"])
        .arg(&ova)
        .args(["-o", "null"])
        .env("LIBGUESTFS_BACKEND", "direct")
        .env("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "virt-v2v rejected the OVA:\n{log}");
    // It must have recognised the guest inside the VMDK, not just parsed the OVF.
    assert!(log.contains("Converting") && log.contains("Finishing off"), "{log}");
}
