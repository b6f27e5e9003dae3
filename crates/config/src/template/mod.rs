//! Jinja templating with minijinja 2.x in Strict undefined mode, plus the Ansible filters and
//! tests roles use.
//!
//! Ansible compatibility choices:
//! - trim_blocks=True, lstrip_blocks=False, trailing newline kept (Ansible's Templar and the
//!   template module); a template file may change them with a first line
//!   `#jinja2: trim_blocks: False, lstrip_blocks: True`.
//! - Printing follows Python: `None` prints as nothing (Ansible's finalize), booleans as
//!   `True`/`False`, lists/dicts in Python repr (`['a', 1]`).
//! - A string that is exactly one `{{ expr }}` keeps the expression's native type.
//! - In task strings and conditions (not template files), backslashes inside Jinja string
//!   literals are literal, as Ansible's escape_backslashes makes them: `regex_replace('\d', '\1')`
//!   in a double-quoted YAML string reaches the filter as `\d` / `\1`.
//! - Undefined values are errors naming the variable (`'foo' is undefined`), except under
//!   `default`, `is defined` and friends. Unlike Ansible, an attribute of an undefined variable
//!   (`undefined_var.x | default(1)`) is an error too (minijinja's strict mode).
mod backslash;
mod errors;
mod filters;
mod format;
mod guard;
pub use guard::no_panic;
mod lookup;
mod tests;

use crate::error::ConfigError;
use crate::yaml::Origin;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;
use std::path::Path;

pub use format::python_repr;

pub struct Templater {
    pub env: minijinja::Environment<'static>,
    /// Same environment in Chainable mode, used only to retry an expression that failed on an
    /// attribute of an undefined value right before `is defined` / `| default` (where Ansible
    /// gives false / the default). Printing undefined still fails there (see format.rs).
    chain_env: minijinja::Environment<'static>,
}

impl Default for Templater {
    fn default() -> Self {
        Self::new()
    }
}

impl Templater {
    /// Strict undefined, Ansible-compatible filters and tests, `lookup('file'|'env'|'template'|'pipe')`.
    pub fn new() -> Self {
        let mut env = Environment::new();
        configure(&mut env, TemplateOptions::default());
        let mut chain_env = env.clone();
        chain_env.set_undefined_behavior(UndefinedBehavior::Chainable);
        Templater { env, chain_env }
    }

    /// Convert a JSON context once (e.g. per host) to reuse it across many renders.
    pub fn context(ctx: &Value) -> minijinja::Value {
        minijinja::Value::from_serialize(ctx)
    }

    /// Render a string; errors name `origin` (the task's file:line:col) and the template's own line.
    pub fn render_str(&self, tmpl: &str, ctx: &Value, origin: &Origin) -> Result<String, ConfigError> {
        self.render_str_in(tmpl, &Self::context(ctx), origin)
    }

    /// [`Self::render_str`] with a prepared context.
    pub fn render_str_in(&self, tmpl: &str, ctx: &minijinja::Value, origin: &Origin) -> Result<String, ConfigError> {
        if !has_jinja(tmpl) {
            return Ok(tmpl.to_string());
        }
        let src = backslash::escape_template(tmpl);
        self.with_retry(&src, |env| env.render_str(&src, ctx)).map_err(|e| errors::in_string(&e, &src, ctx, origin))
    }

    /// Render every string inside a value. A string that is exactly one `{{ expr }}` keeps the
    /// expression's native type (list, dict, int, bool) like Ansible.
    pub fn render_value(&self, v: &Value, ctx: &Value, origin: &Origin) -> Result<Value, ConfigError> {
        self.render_value_in(v, &Self::context(ctx), origin)
    }

    /// [`Self::render_value`] with a prepared context.
    pub fn render_value_in(&self, v: &Value, ctx: &minijinja::Value, origin: &Origin) -> Result<Value, ConfigError> {
        match v {
            Value::String(s) => self.render_string_value(s, ctx, origin),
            Value::Array(items) => items.iter().map(|i| self.render_value_in(i, ctx, origin)).collect::<Result<_, _>>().map(Value::Array),
            Value::Object(m) => {
                let mut out = serde_json::Map::new();
                for (k, val) in m {
                    let key = if has_jinja(k) { self.render_str_in(k, ctx, origin)? } else { k.clone() };
                    out.insert(key, self.render_value_in(val, ctx, origin)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn render_string_value(&self, s: &str, ctx: &minijinja::Value, origin: &Origin) -> Result<Value, ConfigError> {
        if let Some(expr) = single_expression(s) {
            let escaped = backslash::escape_expr(expr);
            if guard::no_panic(expr, || self.env.compile_expression(&escaped).map(|_| ())).is_ok() {
                let at = shifted(origin, s, expr);
                let v = self.eval_in(expr, ctx).map_err(|e| errors::in_string(&e, expr, ctx, &at))?;
                if v.is_undefined() {
                    return Err(errors::undefined_in_expr(expr, s, ctx, origin));
                }
                return to_json(&v).map_err(|m| errors::at_origin(origin, m));
            }
        }
        self.render_str_in(s, ctx, origin).map(Value::String)
    }

    /// Render a located YAML tree (see [`crate::yaml::load_nodes`]): like [`Self::render_value`],
    /// but an error points at the exact line:col of the string that failed.
    pub fn render_node(&self, node: &crate::yaml::Node, ctx: &minijinja::Value) -> Result<Value, ConfigError> {
        use crate::yaml::NodeKind;
        match &node.kind {
            NodeKind::Scalar(Value::String(s)) => self.render_string_value(s, ctx, &node.origin),
            NodeKind::Scalar(v) => Ok(v.clone()),
            NodeKind::Seq(items) => items.iter().map(|i| self.render_node(i, ctx)).collect::<Result<_, _>>().map(Value::Array),
            NodeKind::Map(entries) => {
                let mut out = serde_json::Map::new();
                for (k, v) in entries {
                    let key = if has_jinja(&k.value) { self.render_str_in(&k.value, ctx, &k.origin)? } else { k.value.clone() };
                    out.insert(key, self.render_node(v, ctx)?);
                }
                Ok(Value::Object(out))
            }
        }
    }

    /// Evaluate a bare Jinja expression (`when:`, `that:`, `changed_when:`, `failed_when:`).
    pub fn eval_expr(&self, expr: &str, ctx: &Value, origin: &Origin) -> Result<Value, ConfigError> {
        self.eval_expr_in(expr, &Self::context(ctx), origin)
    }

    /// [`Self::eval_expr`] with a prepared context.
    pub fn eval_expr_in(&self, expr: &str, ctx: &minijinja::Value, origin: &Origin) -> Result<Value, ConfigError> {
        // Ansible allows `when: "{{ x }}"` (with a warning): use the inner expression.
        let e = single_expression(expr.trim()).unwrap_or(expr.trim());
        let at = shifted(origin, expr, e);
        let v = self.eval_in(e, ctx).map_err(|err| errors::in_string(&err, e, ctx, &at))?;
        if v.is_undefined() {
            return Err(errors::undefined_in_expr(e, e, ctx, &at));
        }
        to_json(&v).map_err(|m| errors::at_origin(origin, m))
    }

    /// Evaluate a condition; a list is an AND of its items. Truthiness as Jinja (`"no"` strings are NOT false; use `| bool`).
    pub fn eval_condition(&self, cond: &Value, ctx: &Value, origin: &Origin) -> Result<bool, ConfigError> {
        self.eval_condition_in(cond, &Self::context(ctx), origin)
    }

    /// [`Self::eval_condition`] with a prepared context.
    pub fn eval_condition_in(&self, cond: &Value, ctx: &minijinja::Value, origin: &Origin) -> Result<bool, ConfigError> {
        match cond {
            Value::Array(items) => {
                for c in items {
                    if !self.eval_condition_in(c, ctx, origin)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Value::Bool(b) => Ok(*b),
            Value::Null => Ok(true),
            Value::Number(n) => Ok(n.as_f64() != Some(0.0)),
            Value::String(s) => {
                // `"{{ a }} == 1"`: Ansible templates the text first, then evaluates the result
                let rendered;
                let e = match single_expression(s.trim()) {
                    Some(inner) => inner,
                    None if has_jinja(s) => {
                        rendered = self.render_str_in(s, ctx, origin)?;
                        rendered.trim()
                    }
                    None => s.trim(),
                };
                let at = shifted(origin, s, e);
                let v = self.eval_in(e, ctx).map_err(|err| errors::in_string(&err, e, ctx, &at))?;
                if v.is_undefined() {
                    return Err(errors::undefined_in_expr(e, e, ctx, &at));
                }
                Ok(v.is_true())
            }
            Value::Object(_) => Err(errors::at_origin(origin, "a condition must be an expression string, a boolean or a list of them, not a mapping".into())),
        }
    }

    /// Render a template file (the `template` module); errors name the template file's line.
    pub fn render_file(&self, path: &Path, ctx: &Value) -> Result<String, ConfigError> {
        self.render_file_in(path, &Self::context(ctx))
    }

    /// [`Self::render_file`] with a prepared context.
    pub fn render_file_in(&self, path: &Path, ctx: &minijinja::Value) -> Result<String, ConfigError> {
        let text = crate::yaml::read_text(path)?;
        let (opts, body, skipped_lines) = TemplateOptions::from_header(&text);
        let name = path.display().to_string();
        let render = |env: &Environment<'static>| env.template_from_named_str(&name, body).and_then(|t| t.render(ctx));
        let result = if opts == TemplateOptions::default() {
            self.with_retry(body, render)
        } else {
            let (mut env, mut chain_env) = (self.env.clone(), self.chain_env.clone());
            configure_whitespace(&mut env, opts);
            configure_whitespace(&mut chain_env, opts);
            Templater { env, chain_env }.with_retry(body, render)
        };
        result.map_err(|e| errors::in_file(&e, path, body, skipped_lines, ctx))
    }
}

impl Templater {
    /// Evaluate an expression from a task (backslashes in its string literals kept, as Ansible).
    fn eval_in(&self, expr: &str, ctx: &minijinja::Value) -> Result<minijinja::Value, minijinja::Error> {
        let e = backslash::escape_expr(expr);
        self.with_retry(&e, |env| env.compile_expression(&e).and_then(|c| c.eval(ctx)))
    }

    /// Run with the strict environment; if it failed on `undefined.attr` guarded by
    /// `is defined` / `| default`, run again in Chainable mode (Ansible's behaviour there).
    fn with_retry<T>(&self, src: &str, f: impl Fn(&Environment<'static>) -> Result<T, minijinja::Error>) -> Result<T, minijinja::Error> {
        match guard::no_panic(src, || f(&self.env)) {
            // if the retry fails too, its error is about the next real problem: report that one
            Err(e) if errors::guarded_undefined(&e, src) => guard::no_panic(src, || f(&self.chain_env)),
            other => other,
        }
    }
}

/// Whitespace options a template file header may set.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TemplateOptions {
    trim_blocks: bool,
    lstrip_blocks: bool,
    keep_trailing_newline: bool,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions { trim_blocks: true, lstrip_blocks: false, keep_trailing_newline: true }
    }
}

impl TemplateOptions {
    /// Ansible's `#jinja2: trim_blocks: False, lstrip_blocks: True` first line.
    fn from_header(text: &str) -> (TemplateOptions, &str, usize) {
        let mut o = TemplateOptions::default();
        let Some(rest) = text.strip_prefix("#jinja2:") else { return (o, text, 0) };
        let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
        for item in line.split(',') {
            let Some((k, v)) = item.split_once(':') else { continue };
            let v = matches!(v.trim().trim_matches(['"', '\'']), "True" | "true" | "yes" | "1");
            match k.trim() {
                "trim_blocks" => o.trim_blocks = v,
                "lstrip_blocks" => o.lstrip_blocks = v,
                "keep_trailing_newline" => o.keep_trailing_newline = v,
                _ => {}
            }
        }
        (o, body, 1)
    }
}

fn configure_whitespace(env: &mut Environment<'static>, o: TemplateOptions) {
    env.set_trim_blocks(o.trim_blocks);
    env.set_lstrip_blocks(o.lstrip_blocks);
    env.set_keep_trailing_newline(o.keep_trailing_newline);
}

fn configure(env: &mut Environment<'static>, o: TemplateOptions) {
    configure_whitespace(env, o);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_formatter(format::python_formatter);
    // `{% include %}`/`{% import %}` of a path: relative to the including template's directory
    // an included vault file is decrypted like the template itself
    env.set_loader(|name| match std::fs::read(name) {
        Ok(b) if crate::vault::is_vault(&b) => crate::vault::store::read_text(Path::new(name))
            .map(Some)
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("cannot read template {name}: {}", e.message))),
        Ok(b) => String::from_utf8(b).map(Some).map_err(|_| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("cannot read template {name}: not UTF-8 text"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("cannot read template {name}: {e}"))),
    });
    env.set_path_join_callback(|name, parent| {
        let p = Path::new(name);
        if p.is_absolute() {
            return name.to_string().into();
        }
        match Path::new(parent).parent() {
            Some(dir) => dir.join(name).display().to_string().into(),
            None => name.to_string().into(),
        }
    });
    // Ansible's default `ansible_managed` string; a variable of the same name wins
    env.add_global("ansible_managed", "Ansible managed");
    filters::register(env);
    tests::register(env);
    lookup::register(env);
}

/// The origin of `part` when it sits inside `whole` (same line assumed; else unchanged).
fn shifted(origin: &Origin, whole: &str, part: &str) -> Origin {
    match whole.find(part) {
        Some(off) if !whole[..off].contains('\n') => Origin { col: origin.col + off, ..origin.clone() },
        _ => origin.clone(),
    }
}

/// Does the text contain Jinja syntax at all?
pub fn has_jinja(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// The inner expression if `s` is exactly one `{{ expr }}` (nothing before or after).
pub fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    Some(inner.trim())
}

/// A minijinja value as JSON (undefined inside containers becomes null).
pub fn to_json(v: &minijinja::Value) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| format!("cannot convert template result to data: {e}"))
}
