//! Every YAML file in the repository's roles/ and images/ loads with our YAML semantics, and every
//! Jinja template under roles/*/templates compiles (syntax only: variables come at run time).
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn role_and_image_yaml_files_load() {
    let mut files = Vec::new();
    walk(&repo().join("roles"), &mut files);
    walk(&repo().join("images"), &mut files);
    let yaml: Vec<_> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml")).collect();
    assert!(yaml.len() >= 10, "expected the repository's role files, found {}", yaml.len());
    for f in yaml {
        if let Err(e) = mdxconf_config::yaml::load_nodes(f) {
            panic!("{e}");
        }
    }
}

#[test]
fn role_templates_compile() {
    let mut files = Vec::new();
    walk(&repo().join("roles"), &mut files);
    let templates: Vec<_> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "j2")).collect();
    assert!(!templates.is_empty(), "expected role templates");
    let t = mdxconf_config::template::Templater::new();
    for f in templates {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(e) = t.env.template_from_str(&text) {
            panic!("{}:{}: {e}", f.display(), e.line().unwrap_or(0));
        }
    }
}
