//! Modules: each idempotent, returning ok/changed/failed and a diff. Dispatch by name.
//! INTERFACE STUB — implemented by the modules owner.
use mdxconf_config::template::Templater;
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::path::PathBuf;

/// What a module sees. `args` are already templated by the executor.
pub struct ModuleCtx<'a> {
    pub conn: &'a dyn Connection,
    /// `become` user when escalation is on (usually "root")
    pub become_user: Option<&'a str>,
    pub check: bool,
    pub diff: bool,
    /// Host variables (for `template` rendering)
    pub vars: &'a Value,
    pub templater: &'a Templater,
    /// Role directory for `copy src:` (files/) and `template src:` (templates/) lookups; falls back to cwd
    pub search_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
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

/// Control modules (set_fact, assert, meta, include_*) are handled by the executor; everything else comes here.
pub async fn run_module(_name: &str, _args: &Map<String, Value>, _ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> { todo!() }

/// Canonical module name for a task key (`ansible.builtin.copy` -> `copy`), None if not a module.
pub fn canonical_name(_key: &str) -> Option<&'static str> { todo!() }
