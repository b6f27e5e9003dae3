//! Fuzz target: image definitions, loaded and validated as `image build` does before anything runs
//! (no build starts: the definition is only read and checked).
use mdxconf_image::image::definition::Definition;
use mdxconf_testkit::fuzz;
use std::path::Path;

#[test]
fn image_definitions() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let images = crate_dir.join("../../images");
    let seeds = fuzz::seeds(std::slice::from_ref(&images), &[".yaml"], &[]);
    // beside copies of the shipped definitions, so `base:` finds them
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&images).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "yaml") {
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
    }
    let def = dir.path().join("fuzzed.yaml");
    fuzz::run("image_definition", crate_dir, seeds, |b| {
        std::fs::write(&def, b).unwrap();
        if let Ok(d) = Definition::load(&def) {
            let _ = d.load_base();
            let _ = d.chain();
        }
    });
}
