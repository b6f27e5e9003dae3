//! Every shipped definition parses, its base chain resolves, and every role it names exists in roles/.
mod common;
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
        assert_eq!(g.chain().unwrap().iter().map(|d| d.name.clone()).collect::<Vec<_>>(), vec![format!("ubuntu-{v}-server"), format!("ubuntu-{v}-desktop"), format!("ubuntu-{v}-desktop-gpu")]);
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
