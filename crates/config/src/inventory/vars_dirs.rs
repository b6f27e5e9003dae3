//! group_vars/ and host_vars/: `<name>`, `<name>.yml|.yaml|.json`, or a directory `<name>/` of such
//! files (read recursively in name order, later files win), as Ansible's host_group_vars plugin.
use super::Inventory;
use crate::error::ConfigError;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub fn load(inv: &mut Inventory, dir: &Path, layer: usize) -> Result<(), ConfigError> {
    let group_names: Vec<String> = inv.groups.keys().cloned().collect();
    for g in group_names {
        if let Some(vars) = vars_for(&dir.join("group_vars"), &g)? {
            inv.ensure_group(&g).dir_vars.push((layer, vars));
        }
    }
    let host_names: Vec<String> = inv.hosts.keys().cloned().collect();
    for h in host_names {
        if let Some(vars) = vars_for(&dir.join("host_vars"), &h)? {
            inv.ensure_host(&h).dir_vars.push((layer, vars));
        }
    }
    Ok(())
}

/// The merged variables for `name` inside `base` (None if there is nothing for it). Also used for groups
/// and hosts created at run time (`add_host`, `group_by`), so they read their files exactly like these.
pub fn vars_for(base: &Path, name: &str) -> Result<Option<Map<String, Value>>, ConfigError> {
    if !base.is_dir() {
        return Ok(None);
    }
    let mut files: Vec<PathBuf> = Vec::new();
    let plain = base.join(name);
    if plain.is_dir() {
        collect_dir(&plain, &mut files)?;
    } else if plain.is_file() {
        files.push(plain);
    }
    for ext in ["yml", "yaml", "json"] {
        let f = base.join(format!("{name}.{ext}"));
        if f.is_file() {
            files.push(f);
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let mut out = Map::new();
    for f in files {
        let node = crate::yaml::load_nodes(&f)?;
        match node.to_value() {
            Value::Object(m) => out.extend(m),
            Value::Null => {}
            _ => return Err(ConfigError::at(&f, node.origin.line, node.origin.col, format!("a vars file must be a mapping of variable names, found {}", node.kind_name()))),
        }
    }
    Ok(Some(out))
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ConfigError> {
    let rd = std::fs::read_dir(dir).map_err(|e| ConfigError::at(dir, 0, 0, format!("cannot read directory: {e}")))?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            collect_dir(&p, out)?;
        } else if name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".json") || !name.contains('.') {
            out.push(p);
        }
    }
    Ok(())
}
