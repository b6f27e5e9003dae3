//! YAML loading with Ansible's (YAML 1.1) meaning: `mode: 0644` is octal 420, yes/no/on/off are booleans.
//! INTERFACE STUB — implemented by the config owner.
use crate::error::ConfigError;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a value came from, for error messages (file:line:col).
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub file: Arc<PathBuf>,
    pub line: usize,
    pub col: usize,
}

/// A value with the location of its first character.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

/// Parse YAML text; errors carry `file`'s line:col.
pub fn parse_str(_text: &str, _file: &Path) -> Result<Value, ConfigError> { todo!() }

/// Read and parse a YAML file.
pub fn load_file(_path: &Path) -> Result<Value, ConfigError> { todo!() }

/// Read a YAML file whose top level is a sequence (task lists, playbooks, handler lists) and keep
/// each item's location. An empty file gives an empty list.
pub fn load_list(_path: &Path) -> Result<Vec<Located<Value>>, ConfigError> { todo!() }
