//! Template errors as ConfigError, with Ansible's wording for undefined variables
//! (`'foo' is undefined`, `'dict object' has no attribute 'bar'`) and file:line:col.
use crate::error::ConfigError;
use crate::yaml::Origin;
use minijinja::{ErrorKind, Value};
use std::path::Path;

/// An error while rendering a string that sits at `origin` (e.g. a task's argument).
pub fn in_string(e: &minijinja::Error, tmpl: &str, ctx: &Value, origin: &Origin) -> ConfigError {
    let (tl, tc) = position(e, tmpl);
    let line = origin.line + tl.saturating_sub(1);
    let col = if tl <= 1 { origin.col + tc.saturating_sub(1) } else { tc };
    let msg = message(e, tmpl, ctx);
    let err_line = tmpl.lines().nth(tl.saturating_sub(1)).unwrap_or(tmpl);
    ConfigError::at(&origin.file, line, col, format!("template error: {msg} (in `{}`)", shorten(err_line)))
}

/// An error while rendering a template file; `skipped` lines were removed (the `#jinja2:` header).
pub fn in_file(e: &minijinja::Error, path: &Path, body: &str, skipped: usize, ctx: &Value) -> ConfigError {
    // an error inside an included template names that file (the include error wraps it)
    let mut inner = e;
    while let Some(next) = std::error::Error::source(inner).and_then(|s| s.downcast_ref::<minijinja::Error>()) {
        inner = next;
    }
    let e = inner;
    if let Some(name) = e.name().filter(|n| Path::new(n) != path) {
        if let Ok(text) = std::fs::read_to_string(name) {
            let (l, c) = position(e, &text);
            return ConfigError::at(Path::new(name), l, c, format!("template error: {}", message(e, &text, ctx)));
        }
    }
    let (l, c) = position(e, body);
    let msg = message(e, body, ctx);
    ConfigError::at(path, l + skipped, c, format!("template error: {msg}"))
}

/// An expression that evaluated to undefined.
pub fn undefined_in_expr(expr: &str, full: &str, ctx: &Value, origin: &Origin) -> ConfigError {
    let msg = undefined_message(expr, ctx).unwrap_or_else(|| format!("`{expr}` is undefined"));
    let col = full.find(expr).map(|i| origin.col + i).unwrap_or(origin.col);
    ConfigError::at(&origin.file, origin.line, col, format!("template error: {msg} (in `{}`)", shorten(full)))
}

/// Did evaluation fail on an undefined value that is immediately tested with `is defined`,
/// `is undefined` or passed to `default`/`d`? (There Ansible gives false / the default.)
pub fn guarded_undefined(e: &minijinja::Error, src: &str) -> bool {
    use std::sync::OnceLock;
    static GUARD: OnceLock<regex::Regex> = OnceLock::new();
    if e.kind() != ErrorKind::UndefinedError {
        return false;
    }
    let Some(after) = e.range().and_then(|r| src.get(r.end..)) else { return false };
    let re = GUARD.get_or_init(|| regex::Regex::new(r#"^(?:\.\w+|\[[^\]]*\])*\s*(?:is\s+(?:not\s+)?(?:defined|undefined)\b|\|\s*(?:default|d)\b)"#).unwrap());
    re.is_match(after)
}

pub fn at_origin(origin: &Origin, msg: String) -> ConfigError {
    ConfigError::at(&origin.file, origin.line, origin.col, msg)
}

/// 1-based line and column of the error inside the template text.
fn position(e: &minijinja::Error, src: &str) -> (usize, usize) {
    if let Some(r) = e.range() {
        // the range can point into text the caller rewrote (escapes): never slice inside a character
        let mut start = r.start.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let before = &src[..start];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
        return (line, col);
    }
    (e.line().unwrap_or(1), 1)
}

fn message(e: &minijinja::Error, src: &str, ctx: &Value) -> String {
    // strict undefined in arithmetic or comparisons surfaces as an invalid operation on "undefined"
    let on_undefined = e.kind() == ErrorKind::InvalidOperation && e.detail().is_some_and(|d| d.contains("undefined"));
    if e.kind() == ErrorKind::UndefinedError || on_undefined {
        if let Some(m) = undefined_near(src, e.range(), ctx) {
            return m;
        }
    }
    let mut msg = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    // filter errors carry their cause as source
    let mut src_err = std::error::Error::source(e);
    while let Some(s) = src_err {
        msg.push_str(&format!(": {s}"));
        src_err = s.source();
    }
    msg
}

/// The undefined variable an error at `range` is about: one inside the range, else the last one
/// before it, else the first in the text.
fn undefined_near(src: &str, range: Option<std::ops::Range<usize>>, ctx: &Value) -> Option<String> {
    let found: Vec<(usize, String)> = variable_paths(src).into_iter().filter_map(|(at, p)| unresolved(&p, ctx).map(|m| (at, m))).collect();
    if let Some(r) = range {
        if let Some((_, m)) = found.iter().find(|(at, _)| r.contains(at)) {
            return Some(m.clone());
        }
        if let Some((_, m)) = found.iter().rev().find(|(at, _)| *at < r.start) {
            return Some(m.clone());
        }
    }
    found.into_iter().next().map(|(_, m)| m)
}

/// Find the first variable path in `text` that does not resolve in `ctx`, with Ansible's wording.
pub fn undefined_message(text: &str, ctx: &Value) -> Option<String> {
    variable_paths(text).into_iter().find_map(|(_, p)| unresolved(&p, ctx))
}

/// A path segment `[name]` whose key is the value of the variable `name` (stored with this prefix).
const DYNAMIC_KEY: char = '\u{0}';

fn lookup(ctx: &Value, name: &str) -> Option<Value> {
    ctx.get_attr(name).ok().filter(|v| !v.is_undefined())
}

/// Ansible's message if `path` does not resolve in `ctx`.
fn unresolved(path: &[String], ctx: &Value) -> Option<String> {
    let Some(mut cur) = lookup(ctx, &path[0]) else {
        return Some(format!("'{}' is undefined", path[0]));
    };
    for seg in &path[1..] {
        let seg = match seg.strip_prefix(DYNAMIC_KEY) {
            Some(var) => match lookup(ctx, var) {
                Some(key) => key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string()),
                None => return Some(format!("'{var}' is undefined")),
            },
            None => seg.clone(),
        };
        let seg = &seg;
        let next = cur.get_attr(seg).ok().filter(|v| !v.is_undefined());
        let next = next.or_else(|| cur.get_item(&Value::from(seg.as_str())).ok().filter(|v| !v.is_undefined()));
        match next {
            Some(v) => cur = v,
            None => {
                let kind = match cur.kind() {
                    minijinja::value::ValueKind::Map => "dict",
                    minijinja::value::ValueKind::Seq => "list",
                    minijinja::value::ValueKind::String => "str",
                    minijinja::value::ValueKind::None => "NoneType",
                    _ => "object",
                };
                return Some(format!("'{kind} object' has no attribute '{seg}'"));
            }
        }
    }
    None
}

/// Names the template binds itself (`{% for a, b in ... %}`, `{% set x = ... %}`): never the
/// undefined variable an error is about (a loop over an undefined list fails on the list).
fn bound_names(text: &str) -> Vec<String> {
    use std::sync::OnceLock;
    static BIND: OnceLock<regex::Regex> = OnceLock::new();
    let re = BIND.get_or_init(|| regex::Regex::new(r"\{%[-+]?\s*(?:for\s+([\w\s,()]+?)\s+in\b|set\s+(\w+)\s*=)").unwrap());
    re.captures_iter(text)
        .flat_map(|c| {
            let names = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or("");
            names.split(|ch: char| !(ch.is_alphanumeric() || ch == '_')).filter(|n| !n.is_empty()).map(str::to_string).collect::<Vec<_>>()
        })
        .collect()
}

/// Variable paths like `a.b['c']` or `a[b]` in an expression text, skipping strings, keywords,
/// filter/test names, attribute-call names and names the template binds itself.
fn variable_paths(text: &str) -> Vec<(usize, Vec<String>)> {
    let bound = bound_names(text);
    let mut paths = scan_paths(text);
    paths.retain(|(_, p)| !bound.contains(&p[0]));
    paths
}

fn scan_paths(text: &str) -> Vec<(usize, Vec<String>)> {
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "elif",
        "endif",
        "for",
        "endfor",
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
        "set",
        "endset",
        "raw",
        "endraw",
        "block",
        "endblock",
        "macro",
        "endmacro",
        "loop",
        "range",
        "dict",
        "lookup",
        "query",
        "q",
        "namespace",
        "with",
        "endwith",
        "filter",
        "endfilter",
        "include",
        "import",
        "from",
        "as",
        "recursive",
        "defined",
        "undefined",
        "super",
        "self",
        "varargs",
        "kwargs",
        "caller",
    ];
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut prev_sig = ' ';
    let mut prev_word = String::new();
    while i < b.len() {
        let c = b[i];
        if c == '\'' || c == '"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            prev_sig = c;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            let word: String = b[start..i].iter().collect();
            let after_filter = prev_sig == '|' || (prev_word == "is") || (prev_word == "not" && prev_sig == 'k');
            let is_call = b.get(i) == Some(&'(');
            let is_kwarg = b.get(i) == Some(&'=') && b.get(i + 1) != Some(&'=');
            if prev_sig != '.' && !after_filter && !is_call && !is_kwarg && !KEYWORDS.contains(&word.as_str()) {
                let mut path = vec![word.clone()];
                // follow .attr and ['key'] segments
                loop {
                    if b.get(i) == Some(&'.') && b.get(i + 1).is_some_and(|c| c.is_alphabetic() || *c == '_') {
                        let s = i + 1;
                        i = s;
                        while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                            i += 1;
                        }
                        if b.get(i) == Some(&'(') {
                            break; // a method call, not an attribute
                        }
                        path.push(b[s..i].iter().collect());
                    } else if b.get(i) == Some(&'[') && b.get(i + 1).is_some_and(|c| c.is_alphabetic() || *c == '_') {
                        // `[name]`: the key is a variable's value (groups[jupyter_host_group])
                        let s = i + 1;
                        let mut j = s;
                        while j < b.len() && (b[j].is_alphanumeric() || b[j] == '_') {
                            j += 1;
                        }
                        if b.get(j) != Some(&']') {
                            break;
                        }
                        path.push(format!("{DYNAMIC_KEY}{}", b[s..j].iter().collect::<String>()));
                        i = j + 1;
                    } else if b.get(i) == Some(&'[') && matches!(b.get(i + 1), Some('\'' | '"')) {
                        let q = b[i + 1];
                        let s = i + 2;
                        let mut j = s;
                        while j < b.len() && b[j] != q {
                            j += 1;
                        }
                        if b.get(j + 1) != Some(&']') {
                            break;
                        }
                        path.push(b[s..j].iter().collect());
                        i = j + 2;
                    } else {
                        break;
                    }
                }
                out.push((b[..start].iter().map(|c| c.len_utf8()).sum(), path));
            }
            prev_word = word;
            prev_sig = 'k';
            continue;
        }
        if !c.is_whitespace() {
            prev_sig = c;
            prev_word.clear();
        }
        i += 1;
    }
    out
}

fn shorten(s: &str) -> String {
    let one_line = s.lines().next().unwrap_or("");
    if one_line.chars().count() > 80 || s.contains('\n') {
        let cut: String = one_line.chars().take(77).collect();
        format!("{cut}...")
    } else {
        one_line.to_string()
    }
}
