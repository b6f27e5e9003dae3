//! Checks done before any host is touched: template syntax (strings and template files),
//! required module arguments, and that referenced template/copy sources exist.
use super::paths::resolve_rel;
use super::{err_at, LoadCtx};
use mdxconf_config::error::ConfigError;
use mdxconf_config::template::no_panic;
use mdxconf_config::yaml::{Node, NodeKind, Origin};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Task keys whose values are bare Jinja expressions.
const EXPR_KEYS: &[&str] = &["when", "changed_when", "failed_when", "until", "that"];
/// Task keys holding nested task lists (validated when those tasks are parsed).
const NESTED_KEYS: &[&str] = &["block", "rescue", "always"];

fn is_templated(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Syntax-check every template string and expression in a task node.
pub fn check_task_templates(n: &Node) -> Result<(), ConfigError> {
    if let NodeKind::Map(entries) = &n.kind {
        for (k, v) in entries {
            if NESTED_KEYS.contains(&k.value.as_str()) {
                continue;
            }
            walk(v, EXPR_KEYS.contains(&k.value.as_str()))?;
        }
    }
    Ok(())
}

/// Syntax-check only `keys` of a mapping node (play headers).
pub fn check_task_templates_keys(n: &Node, keys: &[&str]) -> Result<(), ConfigError> {
    for k in keys {
        if let Some(v) = n.get(k) {
            walk(v, false)?;
        }
    }
    Ok(())
}

fn walk(n: &Node, expr: bool) -> Result<(), ConfigError> {
    match &n.kind {
        NodeKind::Scalar(Value::String(s)) => {
            if expr {
                check_expr(s, &n.origin)
            } else if is_templated(s) {
                check_template_str(s, &n.origin)
            } else {
                Ok(())
            }
        }
        NodeKind::Scalar(_) => Ok(()),
        NodeKind::Seq(items) => items.iter().try_for_each(|i| walk(i, expr)),
        NodeKind::Map(entries) => entries.iter().try_for_each(|(k, v)| walk(v, expr || k.value == "that")),
    }
}

fn syntax_env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

/// Position of a minijinja error inside a string that starts at `origin`.
fn locate(e: &minijinja::Error, src: &str, origin: &Origin) -> (usize, usize) {
    let (tline, tcol) = match e.range() {
        Some(r) => {
            let before = &src[..r.start.min(src.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
            (line, col)
        }
        None => (e.line().unwrap_or(1), 1),
    };
    if tline <= 1 {
        (origin.line, origin.col + tcol - 1)
    } else {
        (origin.line + tline - 1, tcol)
    }
}

fn syntax_msg(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("template syntax error: {d}"),
        None => format!("template syntax error: {}", e.kind()),
    }
}

pub fn check_template_str(s: &str, origin: &Origin) -> Result<(), ConfigError> {
    let env = syntax_env();
    match no_panic(s, || env.template_from_str(s).map(|_| ())) {
        Ok(()) => Ok(()),
        Err(e) => {
            let (l, c) = locate(&e, s, origin);
            Err(ConfigError::at(&origin.file, l, c, syntax_msg(&e)))
        }
    }
}

/// A condition: a bare expression, or (tolerated, like Ansible) text with `{{ }}` that renders to one.
pub fn check_expr(s: &str, origin: &Origin) -> Result<(), ConfigError> {
    let t = s.trim();
    // `"{{ a }} == 1"`: Ansible templates the text first and evaluates the result, so it is a template
    if mdxconf_config::template::has_jinja(t) {
        return check_template_str(s, origin);
    }
    let env = syntax_env();
    match no_panic(t, || env.compile_expression(t).map(|_| ())) {
        Ok(()) => Ok(()),
        Err(e) => {
            let (l, c) = locate(&e, t, origin);
            Err(ConfigError::at(&origin.file, l, c, format!("in condition `{t}`: {}", syntax_msg(&e))))
        }
    }
}

/// Syntax-check every file under a role's templates/ (once per directory).
pub fn check_template_dir(dir: &Path, ctx: &LoadCtx) -> Result<(), ConfigError> {
    if !dir.is_dir() || !ctx.checked_dirs.borrow_mut().insert(dir.to_path_buf()) {
        return Ok(());
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(&d).map_err(|e| ConfigError::at(&d, 0, 0, format!("cannot read directory: {e}")))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else {
                check_template_file(&p)?;
            }
        }
    }
    Ok(())
}

pub fn check_template_file(p: &Path) -> Result<(), ConfigError> {
    let Ok(raw) = std::fs::read(p) else { return Ok(()) };
    // a vault template is decrypted to check it: a wrong or missing password stops the run before any host
    let text = if mdxconf_config::vault::is_vault(&raw) { mdxconf_config::vault::store::read_text(p)? } else { String::from_utf8(raw).unwrap_or_default() };
    if text.is_empty() {
        return Ok(()); // binary files are not templates
    }
    let env = syntax_env();
    match no_panic(&text, || env.template_from_str(&text).map(|_| ())) {
        Ok(()) => Ok(()),
        Err(e) => {
            let (l, c) = locate(&e, &text, &Origin::new(p, 1, 1));
            Err(ConfigError::at(p, l, c, syntax_msg(&e)))
        }
    }
}

/// A module call as the loader found it.
pub struct ModuleCall<'a> {
    pub module: &'a str,
    pub args: &'a Value,
    /// The module key: errors about the call as a whole point here.
    pub origin: &'a Origin,
    /// Where the arguments were written (the module's mapping, the task's `args:`): errors about one
    /// argument point at its key.
    pub nodes: Vec<&'a Node>,
    /// files/ and templates/ of the task's role, then the include directories.
    pub search: Vec<PathBuf>,
}

impl ModuleCall<'_> {
    fn origin_of(&self, key: Option<&str>) -> &Origin {
        key.and_then(|k| self.nodes.iter().find_map(|n| n.key_origin(k))).unwrap_or(self.origin)
    }
}

/// Arguments against the module's spec (unknown names listing the valid ones, types, choices, required and
/// conflicting arguments, as ansible-playbook reports them), and existence/syntax of static template/copy
/// sources. Returns the template file a `template` task renders, when its name is static.
pub fn check_module_args(call: &ModuleCall, ctx: &LoadCtx) -> Result<Option<PathBuf>, ConfigError> {
    let (module, origin) = (call.module, call.origin);
    let Some(obj) = call.args.as_object() else { return Ok(None) };
    if let Some(entry) = mdxconf_modules::lookup(module) {
        entry.check(obj, mdxconf_modules::spec::Phase::Parse).map_err(|e| err_at(call.origin_of(e.key.as_deref()), e.msg))?;
    } else {
        crate::modules::validate_args(module, obj).map_err(|m| err_at(origin, format!("module `{module}`: {m}")))?;
    }
    match module {
        "template" | "copy" => {
            let remote = obj.get("remote_src").map(|v| matches!(v, Value::Bool(true)) || v.as_str().is_some_and(|s| matches!(s, "yes" | "true" | "True"))).unwrap_or(false);
            if let Some(src) = obj.get("src").and_then(Value::as_str) {
                if !remote && !is_templated(src) {
                    let mut search = call.search.clone();
                    let sub = if module == "template" { "templates" } else { "files" };
                    search.push(ctx.playbook_dir.join(sub));
                    let found = resolve_rel(src, &search, &ctx.playbook_dir).or_else(|| {
                        // copy of a directory
                        let p = Path::new(src);
                        (module == "copy").then(|| search.iter().map(|d| d.join(p)).find(|c| c.is_dir())).flatten()
                    });
                    match found {
                        Some(p) if module == "template" => {
                            check_template_file(&p)?;
                            return Ok(Some(p));
                        }
                        Some(_) => {}
                        None => return Err(err_at(origin, format!("{module}: source `{src}` not found"))),
                    }
                }
            }
        }
        _ => {}
    }
    Ok(None)
}
