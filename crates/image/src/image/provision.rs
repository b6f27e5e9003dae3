//! Provisioning = the role engine (mdxconf_engine::run::apply_files) against the build VM, through a
//! generated playbook and inventory in the build directory.
use super::definition::{Definition, RoleRef};
use super::BuildOptions;
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

/// The playbook: every role of the definition, in order, with its vars; definition `vars` as play vars.
pub fn playbook_yaml(def: &Definition) -> Result<String> {
    let roles: Vec<serde_json::Value> = def
        .roles
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
        bail!("provisioning failed on the build VM ({}): {:?}", failed.join(", "), summary.hosts);
    }
    Ok(summary)
}
