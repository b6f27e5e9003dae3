//! Provisioning = the role engine (mdxconf_engine::run::apply_files) against the build VM, through a
//! generated playbook and inventory in the build directory.
use super::definition::{Definition, RoleRef};
use super::options::BuildOptions;
use crate::guest::Guest;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Where roles are looked up: --roles-path entries, then `<definition dir>/roles`,
/// `<definition dir>/../roles` (the repository's roles/ next to images/), then ./roles.
pub fn search_path(def: &Definition, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = extra.to_vec();
    v.push(def.dir().join("roles"));
    v.push(def.dir().join("..").join("roles"));
    v.push(PathBuf::from("roles"));
    v
}

/// Roles the given roles may pull in by name (`include_role`, `import_role`, meta `dependencies`): every
/// role directory on the search path whose name appears as a whole word in the files of a role already
/// in the set, transitively. A superset (a name in a comment counts too) on purpose: this decides what
/// the cache key hashes, where too much costs a rebuild and too little a stale image.
pub fn with_referenced_roles(direct: &[PathBuf], search: &[PathBuf]) -> Vec<PathBuf> {
    let mut candidates: Vec<(String, PathBuf)> = vec![];
    for d in search {
        let Ok(rd) = std::fs::read_dir(d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if (p.join("tasks").is_dir() || p.join("meta").is_dir()) && !candidates.iter().any(|(n, _)| *n == name) {
                candidates.push((name, p));
            }
        }
    }
    let mut out: Vec<PathBuf> = direct.to_vec();
    let mut i = 0;
    while i < out.len() {
        let text = role_text(&out[i]);
        for (name, p) in &candidates {
            if !out.iter().any(|o| o.file_name() == p.file_name()) && mentions(&text, name) {
                out.push(p.clone());
            }
        }
        i += 1;
    }
    out
}

fn role_text(dir: &Path) -> String {
    let mut s = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                s.push_str(&t);
                s.push('\n');
            }
        }
    }
    s
}

/// `name` occurs in `text` not as part of a longer identifier (`nvidia_driver` is not in `nvidia_driver_version`).
fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The playbook: every role of the definition, in order, with its vars; definition `vars` as play vars.
pub fn playbook_yaml(def: &Definition) -> Result<String> {
    let roles: Vec<serde_json::Value> = def
        .provision_roles()
        .iter()
        .map(|r| match r {
            RoleRef::Name(n) => serde_json::json!({ "role": n }),
            RoleRef::WithVars { role, vars } => {
                let mut m = vars.clone();
                m.insert("role".into(), serde_json::json!(role));
                serde_json::Value::Object(m)
            }
        })
        .collect();
    let play = serde_json::json!([{ "name": format!("provision image {}", def.name), "hosts": "build", "gather_facts": true, "vars": def.vars, "roles": roles }]);
    // JSON is valid YAML (flow style), so no YAML emitter is needed
    Ok(serde_json::to_string_pretty(&play)?)
}

pub fn inventory_ini(g: &Guest, known_hosts: &Path) -> String {
    format!(
        "[build]\nbuild ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={} ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=accept-new'\n",
        g.port,
        g.key.display(),
        known_hosts.display()
    )
}

pub async fn apply(def: &Definition, g: &Guest, dir: &Path, roles: &[PathBuf], opts: &BuildOptions) -> Result<mdxconf_engine::run::RunSummary> {
    let pb = dir.join("provision.yml");
    let inv = dir.join("inventory.ini");
    crate::util::write_atomic(&pb, playbook_yaml(def)?.as_bytes())?;
    crate::util::write_atomic(&inv, inventory_ini(g, &g.known_hosts).as_bytes())?;
    let mut ao = mdxconf_engine::run::ApplyOptions { accept_new_host_keys: true, quiet: opts.quiet, ..Default::default() };
    // each resolved role's parent directory, so the engine finds exactly the roles we hashed
    for r in roles {
        if let Some(p) = r.parent() {
            if !ao.roles_path.contains(&p.to_path_buf()) {
                ao.roles_path.push(p.to_path_buf());
            }
        }
    }
    let summary = mdxconf_engine::run::apply_files(&pb, &inv, &ao).await?;
    let failed = summary.failed_hosts();
    if !failed.is_empty() {
        let recap: Vec<String> = summary.hosts.iter().map(|(h, s)| format!("{h}: ok={} changed={} failed={} unreachable={}", s.ok, s.changed, s.failed, s.unreachable)).collect();
        bail!("provisioning failed on the build VM ({}): {}", failed.join(", "), recap.join("; "));
    }
    Ok(summary)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // fixtures are written plainly
mod tests {
    use super::*;
    #[test]
    fn roles_pulled_in_by_name_are_found_transitively() {
        let d = tempfile::tempdir().unwrap();
        let mk = |name: &str, tasks: &str| {
            std::fs::create_dir_all(d.path().join(name).join("tasks")).unwrap();
            std::fs::write(d.path().join(name).join("tasks/main.yml"), tasks).unwrap();
        };
        mk("cuda", "- include_role:\n    name: nvidia_driver\n");
        mk("nvidia_driver", "- debug: msg={{ nvidia_driver_version }}\n- import_role: name=dkms_helper\n");
        mk("dkms_helper", "- debug: msg=x\n");
        mk("nvidia", "- debug: msg=unrelated\n");
        mk("unused", "- debug: msg=nothing\n");
        let names = |v: Vec<PathBuf>| v.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect::<Vec<_>>();
        let got = names(with_referenced_roles(&[d.path().join("cuda")], &[d.path().to_path_buf()]));
        assert_eq!(got, vec!["cuda", "nvidia_driver", "dkms_helper"]);
        assert!(mentions("name: nvidia_driver\n", "nvidia_driver"));
        assert!(!mentions("{{ nvidia_driver_version }}", "nvidia_driver"));
        assert!(!mentions("roles/xnvidia", "nvidia"));
    }
}
