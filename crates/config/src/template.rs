//! Jinja templating with minijinja 2.x in Strict undefined mode, plus the Ansible filters roles use.
//! INTERFACE STUB — implemented by the config owner.
use crate::error::ConfigError;
use crate::yaml::Origin;
use serde_json::Value;
use std::path::Path;

pub struct Templater {
    pub env: minijinja::Environment<'static>,
}

impl Templater {
    /// Strict undefined, Ansible-compatible filters and tests, `lookup('file'|'env'|'template')` where feasible.
    pub fn new() -> Self { todo!() }
    /// Render a string; errors name `origin` (the task's file:line:col) and the template's own line.
    pub fn render_str(&self, _tmpl: &str, _ctx: &Value, _origin: &Origin) -> Result<String, ConfigError> { todo!() }
    /// Render every string inside a value. A string that is exactly one `{{ expr }}` keeps the
    /// expression's native type (list, dict, int, bool) like Ansible.
    pub fn render_value(&self, _v: &Value, _ctx: &Value, _origin: &Origin) -> Result<Value, ConfigError> { todo!() }
    /// Evaluate a bare Jinja expression (`when:`, `that:`, `changed_when:`, `failed_when:`).
    pub fn eval_expr(&self, _expr: &str, _ctx: &Value, _origin: &Origin) -> Result<Value, ConfigError> { todo!() }
    /// Evaluate a condition; a list is an AND of its items. Truthiness as Jinja (`"no"` strings are NOT false; use `| bool`).
    pub fn eval_condition(&self, _cond: &Value, _ctx: &Value, _origin: &Origin) -> Result<bool, ConfigError> { todo!() }
    /// Render a template file (the `template` module); errors name the template file's line.
    pub fn render_file(&self, _path: &Path, _ctx: &Value) -> Result<String, ConfigError> { todo!() }
}
