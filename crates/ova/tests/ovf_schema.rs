//! The generated .ovf validates against DMTF's OVF envelope schema (dsp8023 1.1.1 and the CIM schemas
//! it imports, stored under tests/fixtures/dmtf) with xmllint, for each controller/firmware/OS choice.
mod common;
use common::*;
use mdxconf_ova::{export_ova, Controller, Firmware};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Copies the schemas to `dir`, pointing the CIM schemas' absolute import of common.xsd at the local copy
/// (xmllint runs with --nonet).
fn local_schemas(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dmtf");
    for e in std::fs::read_dir(&src).unwrap().flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(".xsd") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        let text = text.replace("schemaLocation=\"http://schemas.dmtf.org/wbem/wscim/1/common.xsd\"", "schemaLocation=\"common.xsd\"");
        std::fs::write(dir.join(&name), text).unwrap();
    }
    dir.join("dsp8023_1.1.1.xsd")
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
        ("ubuntu64Guest", Controller::Pvscsi, Firmware::Efi, 19),
        ("debian12_64Guest", Controller::Nvme, Firmware::Bios, 21),
        ("otherLinux64Guest", Controller::Pvscsi, Firmware::Bios, 13),
    ];
    for (i, (os, controller, firmware, vmx)) in cases.into_iter().enumerate() {
        let name = format!("vm{i}");
        let ova = dir.path().join(format!("{name}.ova"));
        let mut s = spec(&src, &name, &ova);
        s.vm.os_type = os.into();
        s.vm.controller = controller;
        s.vm.firmware = firmware;
        s.vm.vmx_version = vmx;
        s.vm.network = "mdx <internal> & \"lab\"".into(); // must be escaped
        export_ova(&s).unwrap();
        let ovf = extract(&ova, &format!("{name}.ovf"), dir.path());
        xmllint(&schema, &ovf).unwrap_or_else(|e| panic!("{os}/{controller:?}/{firmware:?}: {e}"));
        let text = std::fs::read_to_string(&ovf).unwrap();
        assert!(text.contains(&format!("vmw:osType=\"{os}\"")));
        assert!(text.contains(&format!("<vssd:VirtualSystemType>vmx-{vmx}</vssd:VirtualSystemType>")));
    }
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
