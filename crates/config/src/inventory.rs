//! Ansible inventories, unchanged: INI and YAML, group_vars/ and host_vars/ directories.
//! INTERFACE STUB — implemented by the config owner.
use crate::error::ConfigError;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub vars: Map<String, Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    pub vars: Map<String, Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    /// Always contains `all` and `ungrouped`.
    pub groups: IndexMap<String, Group>,
}

impl Inventory {
    /// Load an INI or YAML inventory file (or a directory of them), plus group_vars/ and host_vars/ beside it.
    pub fn load(_path: &Path) -> Result<Inventory, ConfigError> { todo!() }
    /// Merge group_vars/ and host_vars/ found in `dir` (Ansible also reads them beside the playbook).
    pub fn load_vars_dirs(&mut self, _dir: &Path) -> Result<(), ConfigError> { todo!() }
    /// Hosts matching an Ansible pattern: `all`, `*`, group or host names, globs, `a:b`, `a:!b`, `a:&b`, `~regex`.
    pub fn hosts_matching(&self, _pattern: &str) -> Vec<String> { todo!() }
    /// `group_names` for a host (sorted, without `all`).
    pub fn group_names(&self, _host: &str) -> Vec<String> { todo!() }
    /// The `groups` magic variable: group name -> host names.
    pub fn groups_var(&self) -> Map<String, Value> { todo!() }
    /// Inventory variables of a host with Ansible's precedence: all < parent groups < child groups < host.
    pub fn host_vars(&self, _host: &str) -> Map<String, Value> { todo!() }
}
