//! Variable precedence (Ansible's order) and extra vars.
//! INTERFACE STUB — implemented by the config owner.
use crate::error::ConfigError;
use serde_json::{Map, Value};
use std::path::Path;

/// The layers of one host's variables, lowest precedence first.
#[derive(Debug, Clone, Default)]
pub struct VarLayers {
    pub role_defaults: Map<String, Value>,
    pub inventory: Map<String, Value>,
    pub play_vars: Map<String, Value>,
    pub vars_files: Map<String, Value>,
    pub role_vars: Map<String, Value>,
    /// set_fact and register results
    pub facts: Map<String, Value>,
    pub extra: Map<String, Value>,
}

impl VarLayers {
    /// Merge the layers (later wins, top-level replace like Ansible's default hash_behaviour=replace).
    pub fn merged(&self) -> Map<String, Value> { todo!() }
}

/// Parse `-e` arguments: `k=v k2=v2`, `@file.yml`, or inline JSON/YAML.
pub fn parse_extra_vars(_args: &[String], _cwd: &Path) -> Result<Map<String, Value>, ConfigError> { todo!() }
