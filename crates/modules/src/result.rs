//! What a module reports: the leaf types every other file uses.
use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Diff {
    pub path: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ModuleResult {
    pub changed: bool,
    pub failed: bool,
    pub skipped: bool,
    pub msg: String,
    pub diff: Vec<Diff>,
    /// Extra fields for `register` (rc, stdout, stderr, stdout_lines, stat, ansible_facts, ...)
    pub data: Map<String, Value>,
}
