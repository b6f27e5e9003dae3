//! The generated .ovf validates against DMTF's OVF envelope schema (dsp8023 1.1.1 and the CIM schemas
//! it imports, stored under tests/fixtures/dmtf and bundled into `ova verify`) with xmllint, for each
//! controller/firmware/OS choice.
use crate::common;
use common::*;
use mdxconf_ova::{export_ova, Controller, Firmware};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The schemas `ova verify` bundles, written to `dir` (the CIM schemas' absolute import of common.xsd
/// pointed at the local copy: xmllint runs with --nonet).
fn local_schemas(dir: &Path) -> PathBuf {
    mdxconf_ova::verify::schema::write_bundled(dir).unwrap()
}

fn xmllint(schema: &Path, doc: &Path) -> Result<(), String> {
    let out = Command::new("xmllint").arg("--nonet").arg("--noout").arg("--schema").arg(schema).arg(doc).output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn ovf_validates_against_dmtf_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = local_schemas(dir.path());
    let src = dir.path().join("src.raw");
    raw_image(&src, 16 << 20, &[(0, 100_000)]);
    let cases = [
        ("ubuntu64Guest", Controller::Pvscsi, Firmware::Efi, 19, "7.0u3", true),
        ("debian12_64Guest", Controller::Nvme, Firmware::Bios, 21, "8.0u2", true),
        ("otherLinux64Guest", Controller::Pvscsi, Firmware::Bios, 13, "7.0", false),
    ];
    for (i, (os, controller, firmware, vmx, vsphere, vapp)) in cases.into_iter().enumerate() {
        let name = format!("vm{i}");
        let ova = dir.path().join(format!("{name}.ova"));
        let mut s = spec(&src, &name, &ova);
        s.vm.os_type = os.into();
        s.vm.controller = controller;
        s.vm.firmware = firmware;
        s.vm.vmx_version = vmx;
        s.vsphere = mdxconf_ova::VsphereVersion::parse(vsphere).unwrap();
        s.vm.product = vapp.then(|| mdxconf_ova::vapp::cloud_init_product(&name, "1 <&>"));
        s.vm.network = "mdx <internal> & \"lab\"".into(); // must be escaped
        export_ova(&s).unwrap();
        let ovf = extract(&ova, &format!("{name}.ovf"), dir.path());
        xmllint(&schema, &ovf).unwrap_or_else(|e| panic!("{os}/{controller:?}/{firmware:?}: {e}"));
        let text = std::fs::read_to_string(&ovf).unwrap();
        assert!(text.contains(&format!("vmw:osType=\"{os}\"")));
        assert!(text.contains(&format!("<vssd:VirtualSystemType>vmx-{vmx}</vssd:VirtualSystemType>")));
        assert_eq!(text.contains("<ProductSection"), vapp);
    }
}

/// An OVA for a vSphere release is refused when its hardware version or guest id is newer than it.
#[test]
fn export_refuses_what_the_target_vsphere_cannot_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.raw");
    raw_image(&src, 1 << 20, &[(0, 1000)]);
    let ova = dir.path().join("o.ova");
    let mut s = spec(&src, "o", &ova);
    s.vm.vmx_version = 19;
    let e = export_ova(&s).unwrap_err().to_string();
    assert!(e.contains("vmx-19") && e.contains("vSphere 7.0"), "{e}");
    s.vm.vmx_version = 17;
    s.vm.os_type = "debian12_64Guest".into();
    let e = export_ova(&s).unwrap_err().to_string();
    assert!(e.contains("debian12_64Guest"), "{e}");
    assert!(!ova.exists(), "nothing written");
}

/// The validator is not a rubber stamp: a descriptor with rasd elements out of schema order fails.
#[test]
fn schema_rejects_rasd_elements_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let schema = local_schemas(dir.path());
    let src = dir.path().join("src.raw");
    raw_image(&src, 1 << 20, &[(0, 1000)]);
    let ova = dir.path().join("o.ova");
    export_ova(&spec(&src, "o", &ova)).unwrap();
    let ovf = extract(&ova, "o.ovf", dir.path());
    let text = std::fs::read_to_string(&ovf).unwrap();
    let swapped = text.replacen(
        "<rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n        <rasd:Description>Number of Virtual CPUs</rasd:Description>",
        "<rasd:Description>Number of Virtual CPUs</rasd:Description>\n        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>",
        1,
    );
    assert_ne!(swapped, text);
    let bad = dir.path().join("bad.ovf");
    std::fs::write(&bad, swapped).unwrap();
    let e = xmllint(&schema, &bad).unwrap_err();
    assert!(e.contains("AllocationUnits") && e.contains("not expected"), "{e}");
}
