//! YAML loading with Ansible's (YAML 1.1, PyYAML) meaning: `mode: 0644` is octal 420,
//! yes/no/on/off/true/false are booleans, `~`/`null` are null, anchors/aliases and `<<` merge keys work.
//!
//! Choices, documented:
//! - Duplicate keys: the last one wins, without an error (Ansible only warns and keeps the last).
//! - Several documents in one file: an error naming the second document's line (Ansible's
//!   loader also refuses more than one document in a playbook/vars file).
//! - `y`/`n` (which serde-saphyr would read as booleans) stay strings, as in PyYAML.
//! - A float spelling that PyYAML does not accept as float (e.g. `1e3`, no dot) stays a string.
mod node;
pub(crate) mod resolve;

pub use node::{Node, NodeKind};

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

impl Origin {
    pub fn new(file: &Path, line: usize, col: usize) -> Self {
        Origin { file: Arc::new(file.to_path_buf()), line, col }
    }
    /// An origin for values that come from no file (command line, built-ins).
    pub fn unknown(what: &str) -> Self {
        Origin { file: Arc::new(PathBuf::from(what)), line: 0, col: 0 }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// A value with the location of its first character.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

/// Parse YAML text into a located tree (every node knows its line:col).
/// An empty document gives a `null` node at 1:1.
pub fn parse_nodes(text: &str, file: &Path) -> Result<Node, ConfigError> {
    node::parse(text, file)
}

/// Parse YAML text; errors carry `file`'s line:col.
pub fn parse_str(text: &str, file: &Path) -> Result<Value, ConfigError> {
    Ok(parse_nodes(text, file)?.to_value())
}

/// Read and parse a YAML file.
pub fn load_file(path: &Path) -> Result<Value, ConfigError> {
    Ok(load_nodes(path)?.to_value())
}

/// Read and parse a YAML file into a located tree.
pub fn load_nodes(path: &Path) -> Result<Node, ConfigError> {
    let text = read_text(path)?;
    parse_nodes(&text, path).map_err(|e| crate::vault::store::in_decrypted(path, e))
}

/// Read a YAML file whose top level is a sequence (task lists, playbooks, handler lists) and keep
/// each item's location. An empty file gives an empty list.
pub fn load_list(path: &Path) -> Result<Vec<Located<Value>>, ConfigError> {
    let text = read_text(path)?;
    parse_list_str(&text, path).map_err(|e| crate::vault::store::in_decrypted(path, e))
}

/// Like [`load_list`] on text already read.
pub fn parse_list_str(text: &str, file: &Path) -> Result<Vec<Located<Value>>, ConfigError> {
    let root = parse_nodes(text, file)?;
    match root.kind {
        NodeKind::Seq(items) => Ok(items.into_iter().map(|n| Located { value: n.to_value(), origin: n.origin.clone() }).collect()),
        NodeKind::Scalar(Value::Null) => Ok(Vec::new()),
        _ => Err(ConfigError::at(file, root.origin.line, root.origin.col, format!("expected a YAML list (`- ...` items) at the top level, found {}", root.kind_name()))),
    }
}

/// Serialize a value as YAML (block style, 2-space indent). Used by `to_yaml`/`to_nice_yaml`.
pub fn to_yaml_string(v: &Value, indent: usize) -> Result<String, String> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.indent_step = indent.max(1);
    serde_saphyr::to_string_with_options(v, opts).map_err(|e| e.to_string())
}

/// A controller file's text; a vault-encrypted file is decrypted (as Ansible's loader does).
pub(crate) fn read_text(path: &Path) -> Result<String, ConfigError> {
    crate::vault::store::read_text(path)
}
