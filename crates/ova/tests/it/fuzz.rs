//! Fuzz target: OVA files (tar, OVF descriptor, manifest, streamOptimized VMDK) read by `ova verify`
//! with every grain inflated, starting from OVAs this crate's writer made.
use crate::common::*;
use mdxconf_ova::export_ova;
use mdxconf_testkit::fuzz;
use std::path::Path;

#[test]
fn ova_verify() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = tempfile::tempdir().unwrap();
    let mut seeds = vec![];
    for (i, writes) in [vec![(0u64, 4096usize), (1 << 20, 8000)], vec![(65_536, 100)]].iter().enumerate() {
        let disk = d.path().join(format!("disk{i}.raw"));
        raw_image(&disk, 2 << 20, writes);
        let out = d.path().join(format!("seed{i}.ova"));
        export_ova(&spec(&disk, "fuzz", &out)).unwrap();
        seeds.push(std::fs::read(&out).unwrap());
    }
    let f = d.path().join("fuzzed.ova");
    fuzz::run("ova_verify", crate_dir, seeds, |b| {
        std::fs::write(&f, b).unwrap();
        let _ = mdxconf_ova::verify::verify(&f, true);
    });
}
