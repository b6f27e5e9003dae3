//! Checks done before any host is touched: template syntax (strings and template files),
//! required module arguments, and that referenced template/copy sources exist.
use super::paths::resolve_rel;
use super::{err_at, LoadCtx};
use mdxconf_config::error::ConfigError;
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
    match env.template_from_str(s) {
        Ok(_) => Ok(()),
        Err(e) => {
            let (l, c) = locate(&e, s, origin);
            Err(ConfigError::at(&origin.file, l, c, syntax_msg(&e)))
        }
    }
}

/// A condition: a bare expression, or (tolerated, like Ansible) one wrapped in `{{ }}`.
pub fn check_expr(s: &str, origin: &Origin) -> Result<(), ConfigError> {
    let t = s.trim();
    if t.starts_with("{{") && t.ends_with("}}") {
        return check_template_str(s, origin);
    }
    let env = syntax_env();
    match env.compile_expression(t) {
        Ok(_) => Ok(()),
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
    let Ok(text) = std::fs::read_to_string(p) else { return Ok(()) }; // binary files are not templates
    let env = syntax_env();
    match env.template_from_str(&text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let (l, c) = locate(&e, &text, &Origin::new(p, 1, 1));
            Err(ConfigError::at(p, l, c, syntax_msg(&e)))
        }
    }
}

/// Required arguments: each inner list is "one of these keys".
fn required(module: &str) -> &'static [&'static [&'static str]] {
    match module {
        "copy" => &[&["dest"], &["src", "content"]],
        "template" => &[&["src"], &["dest"]],
        "file" => &[&["path", "dest", "name"]],
        "lineinfile" | "blockinfile" => &[&["path", "dest", "destfile", "name"]],
        "service" | "user" | "group" | "sysctl" | "hostname" => &[&["name"]],
        "systemd" | "systemd_service" => &[&["name", "daemon_reload", "daemon_reexec"]],
        "mount" => &[&["path", "name"], &["state"]],
        "command" | "shell" => &[&["_raw_params", "cmd", "argv"]],
        "stat" => &[&["path"]],
        "package" => &[&["name"]],
        "apt" => &[&["name", "pkg", "package", "update_cache", "upgrade", "deb", "autoremove", "autoclean"]],
        "assert" => &[&["that"]],
        "include_vars" => &[&["file", "dir", "_raw_params"]],
        "meta" => &[&["_raw_params"]],
        "add_host" => &[&["name", "hostname", "host"]],
        "group_by" => &[&["key"]],
        _ => &[],
    }
}

const META_ACTIONS: &[&str] = &["flush_handlers", "end_host", "end_play", "noop", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection", "end_batch"];

/// Required arguments, meta actions, and existence/syntax of static template/copy sources.
/// Returns the template file a `template` task renders, when its name is static.
pub fn check_module_args(module: &str, args: &Value, origin: &Origin, role_dirs: &[PathBuf], dirs: &[PathBuf], ctx: &LoadCtx) -> Result<Option<PathBuf>, ConfigError> {
    let Some(obj) = args.as_object() else { return Ok(None) };
    // Argument names and required arguments as the module registry knows them.
    crate::modules::validate_args(module, obj).map_err(|m| err_at(origin, format!("module `{module}`: {m}")))?;
    for alts in required(module) {
        if !alts.iter().any(|k| obj.contains_key(*k)) {
            let what = if alts.len() == 1 { format!("`{}`", alts[0]) } else { format!("one of {}", alts.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")) };
            return Err(err_at(origin, format!("module `{module}`: missing required argument {what}")));
        }
    }
    match module {
        "set_stats" => return Err(err_at(origin, format!("module `{module}` is not supported by mdxconf"))),
        "pause" if obj.contains_key("prompt") => return Err(err_at(origin, "pause: interactive `prompt` is not supported")),
        "set_fact" if obj.is_empty() => return Err(err_at(origin, "set_fact needs at least one variable")),
        "meta" => {
            let a = obj.get("_raw_params").and_then(Value::as_str).unwrap_or("");
            if !META_ACTIONS.contains(&a) {
                return Err(err_at(origin, format!("unknown meta action `{a}`")));
            }
        }
        "template" | "copy" => {
            let remote = obj.get("remote_src").map(|v| matches!(v, Value::Bool(true)) || v.as_str().is_some_and(|s| matches!(s, "yes" | "true" | "True"))).unwrap_or(false);
            if let Some(src) = obj.get("src").and_then(Value::as_str) {
                if !remote && !is_templated(src) {
                    let mut search: Vec<PathBuf> = Vec::new();
                    search.extend(role_dirs.iter().cloned());
                    search.extend(dirs.iter().cloned());
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
