//! Every shipped definition parses, its base chain resolves, and every role it names exists in roles/.
use crate::common;
use mdxconf_image::image::definition::{Definition, Output, Source};
use mdxconf_image::qemu::Firmware;

#[test]
fn all_shipped_definitions_are_valid() {
    let dir = common::repo().join("images");
    let mut names = vec![];
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().map(|x| x == "yaml").unwrap_or(false) {
            let d = Definition::load(&p).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(format!("{}.yaml", d.name), p.file_name().unwrap().to_string_lossy(), "name matches file");
            let chain = d.chain().unwrap_or_else(|e| panic!("{e}"));
            assert!(chain[0].source.is_some(), "{}: chain must start at a source", d.name);
            for r in &d.roles {
                assert!(common::repo().join("roles").join(r.name()).is_dir(), "{}: role {} missing", d.name, r.name());
            }
            names.push(d.name.clone());
        }
    }
    names.sort();
    for v in ["20.04", "22.04", "24.04"] {
        for kind in ["server", "server-gpu", "desktop", "desktop-gpu"] {
            assert!(names.contains(&format!("ubuntu-{v}-{kind}")), "ubuntu-{v}-{kind} shipped");
        }
        let s = Definition::load(&dir.join(format!("ubuntu-{v}-server.yaml"))).unwrap();
        let Some(Source::Installer(i)) = &s.source else { panic!("installer source") };
        assert!(i.append.contains("ds=nocloud-net;s={{ http_url }}/"));
        assert_eq!(s.firmware, Firmware::Efi);
        assert!(s.outputs.contains(&Output::Ova));
        let g = Definition::load(&dir.join(format!("ubuntu-{v}-desktop-gpu.yaml"))).unwrap();
        assert_eq!(
            g.chain().unwrap().iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
            vec![format!("ubuntu-{v}-server"), format!("ubuntu-{v}-desktop"), format!("ubuntu-{v}-desktop-gpu")]
        );
    }
    assert!(names.contains(&"debian12-server".to_string()));
}

#[test]
fn bad_definition_errors_name_file_line_col() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.yaml");
    std::fs::write(&p, "name: x\nsource:\n  installer:\n    netboot: debian-12\n    append: a\n    timeout: soon\n").unwrap();
    let e = Definition::load(&p).unwrap_err();
    assert!(e.to_string().starts_with(&format!("{}:", p.display())), "{e}");
    assert!(e.line >= 2, "{e}");
    std::fs::write(&p, "name: x\nbase: nope\n").unwrap();
    let e = Definition::load(&p).unwrap().chain().unwrap_err();
    assert!(e.message.contains("base image `nope` not found"), "{e}");
}

/// The DMTF OVF schemas `ova verify` bundles (stored with the ova crate's tests), with the CIM schemas'
/// absolute import of common.xsd pointed at the local copy (xmllint runs with --nonet).
fn dmtf_schema(dir: &std::path::Path) -> std::path::PathBuf {
    mdxconf_ova::verify::schema::write_bundled(dir).unwrap()
}

/// Every shipped definition is deployable: cloud-init set up (its own or its base's), and the outputs
/// it renders validate: the OVF against DMTF's schema with a hardware version and guest id its target
/// vSphere accepts and cloud-init's vApp options, the Glance description with every property Nova
/// needs. Rendered without building (the disk facts are the definition's own).
#[test]
fn every_shipped_definition_renders_outputs_that_validate() {
    use mdxconf_image::image::{definition::parse_size, glance, outputs};
    let dir = common::repo().join("images");
    let tmp = tempfile::tempdir().unwrap();
    let schema = dmtf_schema(tmp.path());
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let d = Definition::load(&p).unwrap_or_else(|e| panic!("{e}"));
        let chain = d.chain().unwrap_or_else(|e| panic!("{e}"));
        let ci = Definition::effective_cloud_init(&chain).unwrap_or_else(|| panic!("{}: no cloud-init: nobody could log in", d.name));
        assert_eq!(ci.user, "mdxuser", "{}", d.name);
        let os = Definition::effective_os(&chain).unwrap_or_else(|| panic!("{}: OS not known", d.name));
        let capacity = parse_size(&chain[0].disk_size).unwrap();
        if d.outputs.contains(&Output::Ova) {
            let spec = outputs::ova_spec(&chain, &tmp.path().join("x.qcow2"), &tmp.path().join("x.ova"), "1").unwrap();
            spec.vsphere.check(spec.vm.vmx_version, &spec.vm.os_type).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            let want_guest = if os.distro == "ubuntu" { "ubuntu64Guest" } else { "debian11_64Guest" };
            assert_eq!((spec.vm.os_type.as_str(), spec.vm.vmx_version), (want_guest, 17), "{}: vSphere 7.0 guest id and hardware", d.name);
            assert!(spec.vm.product.is_some(), "{}: cloud-init's vApp options", d.name);
            let params = mdxconf_ova::ovf::OvfParams {
                vm: spec.vm.clone(),
                disk_file: format!("{}-disk1.vmdk", d.name),
                disk_capacity: capacity,
                disk_file_size: 1 << 30,
                populated_size: 1 << 30,
            };
            let xml = mdxconf_ova::ovf::render(&params).unwrap();
            let f = tmp.path().join(format!("{}.ovf", d.name));
            std::fs::write(&f, &xml).unwrap();
            let out = std::process::Command::new("xmllint").arg("--nonet").arg("--noout").arg("--schema").arg(&schema).arg(&f).output().unwrap();
            assert!(out.status.success(), "{}: OVF fails the DMTF schema: {}", d.name, String::from_utf8_lossy(&out.stderr));
            let back = mdxconf_ova::descriptor::parse(&xml).unwrap();
            assert_eq!(back.firmware == mdxconf_ova::Firmware::Efi, chain[0].firmware == Firmware::Efi, "{}", d.name);
        }
        if d.outputs.contains(&Output::Openstack) {
            let desc = glance::describe(&glance::GlanceInput {
                def: &d,
                os: Some(&os),
                firmware: outputs::firmware(&chain),
                file_name: "x.qcow2",
                sha256: "0".repeat(64),
                size: 1,
                virtual_size: capacity,
                guest_agent: true,
            });
            for k in glance::REQUIRED_PROPERTIES {
                assert!(desc.properties.contains_key(*k), "{}: Glance property {k} missing", d.name);
                assert!(desc.command_line.contains(&format!("--property {k}=")), "{}: {k} not in the command line", d.name);
            }
            assert_eq!(desc.properties["hw_firmware_type"], if chain[0].firmware == Firmware::Efi { "uefi" } else { "bios" }, "{}", d.name);
            assert_eq!(desc.properties["os_distro"], os.distro.as_str());
            assert_eq!(desc.min_disk, capacity.div_ceil(1 << 30));
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked} definitions");
}

fn load_err(text: &str) -> mdxconf_config::error::ConfigError {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.yaml");
    std::fs::write(&p, text).unwrap();
    match Definition::load(&p).and_then(|def| def.chain().map(|_| def)) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

const ROOTFS: &str = "name: x\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://deb.debian.org/debian\n";

/// Outputs that ask for something the guest cannot do, and bad values, fail before anything runs,
/// naming the line.
#[test]
fn outputs_the_guest_cannot_serve_and_bad_values_are_refused_with_their_line() {
    let e = load_err(&format!("{ROOTFS}cloud_init:\n  datasources: [OVF, None]\noutputs: [qcow2, openstack]\n"));
    assert_eq!(e.line, 8, "{e}");
    assert!(e.message.contains("openstack") && e.message.contains("ConfigDrive"), "{e}");
    let e = load_err(&format!("{ROOTFS}outputs: [ova]\n"));
    assert!(e.message.contains("no `cloud_init:`"), "{e}");
    let e = load_err("name: x\nbase: ../../images/nope\ncloud_init: {}\n");
    assert!(e.message.contains("overlays inherit it") || e.message.contains("not found"), "{e}");
    let e = load_err(&format!("{ROOTFS}cloud_init:\n  datasources: [None, OVF]\n"));
    assert!(e.message.contains("None must come last"), "{e}");
    let e = load_err(&format!("{ROOTFS}cloud_init:\n  datasourcs: [OVF]\n"));
    assert!(e.message.contains("datasourcs"), "{e}");
    let e = load_err(&format!("{ROOTFS}vsphere:\n  version: \"6.0\"\n"));
    assert_eq!(e.line, 7, "{e}");
    let cases: &[(&str, &str, &str)] = &[
        ("cpus: 0\n", "cpus", "cpus must be 1-256"),
        ("memory: 0\n", "memory", "at least 256"),
        ("disk_size: '1'\n", "disk_size", "between 1G and 16T"),
        ("ssh_timeout: 0\n", "ssh_timeout", "at least 1 second"),
    ];
    for (extra, key, msg) in cases {
        let e = load_err(&format!("{ROOTFS}{extra}"));
        assert!(e.message.contains(msg) && e.line == 6, "{key}: {e}");
    }
    let e = load_err("name: ../../escape\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://deb.debian.org/debian\n");
    assert!(e.message.contains("must be 1-64") && e.line == 1, "{e}");
    let e = load_err("name: x\nsource:\n  rootfs:\n    suite: ''\n    mirror: http://deb.debian.org/debian\n");
    assert!(e.message.contains("suite"), "{e}");
    let e = load_err("name: x\nsource:\n  rootfs:\n    suite: bookworm\n    variant: bogus\n    mirror: http://deb.debian.org/debian\n");
    assert!(e.message.contains("variant `bogus`"), "{e}");
}

/// `image test` stops before booting on a file that is not an export, or an OVA that fails `ova verify`.
#[tokio::test]
async fn image_test_refuses_what_is_not_a_sound_export_before_booting() {
    use mdxconf_image::deploy::test::{run_test, TestOptions};
    let d = tempfile::tempdir().unwrap();
    let opts = |p: std::path::PathBuf| TestOptions {
        artifact: p,
        cloud: None,
        dir: Some(d.path().join("work")),
        boot_timeout: std::time::Duration::from_secs(5),
        cpus: None,
        memory_mib: None,
        progress: false,
    };
    let text = d.path().join("notes.txt");
    std::fs::write(&text, "not a disk image\n").unwrap();
    let e = format!("{:#}", run_test(&opts(text)).await.unwrap_err());
    assert!(e.contains("neither an OVA") && e.contains("notes.txt"), "{e}");
    // an OVA cut short
    let raw = d.path().join("d.raw");
    std::fs::File::create(&raw).unwrap().set_len(4 << 20).unwrap();
    std::fs::write(&raw, vec![7u8; 1 << 20]).unwrap();
    let ova = d.path().join("d.ova");
    mdxconf_ova::export_ova(&mdxconf_ova::ExportSpec::new(raw, "d", ova.clone())).unwrap();
    let len = std::fs::metadata(&ova).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&ova).unwrap();
    f.set_len(len - 2048).unwrap();
    let e = format!("{:#}", run_test(&opts(ova)).await.unwrap_err());
    assert!(e.contains("fails `ova verify`"), "{e}");
    // a qcow2 that is not standalone
    let base = d.path().join("b.qcow2");
    let top = d.path().join("t.qcow2");
    assert!(std::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&base).arg("1G").status().unwrap().success());
    assert!(std::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"]).arg(&base).arg(&top).status().unwrap().success());
    let e = format!("{:#}", run_test(&opts(top)).await.unwrap_err());
    assert!(e.contains("backing file"), "{e}");
    assert!(!d.path().join("work/vm.serial.log").exists(), "nothing booted");
}
