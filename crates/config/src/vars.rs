//! Variable precedence (Ansible's order) and extra vars.
use crate::error::ConfigError;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The layers of one host's variables, lowest precedence first:
/// role defaults < inventory < play vars < vars_files < role vars < set_fact/register < extra vars.
#[derive(Debug, Clone, Default)]
pub struct VarLayers {
    pub role_defaults: Map<String, Value>,
    pub inventory: Map<String, Value>,
    /// Facts modules returned (setup, package_facts, ...): above the inventory, below play vars
    pub gathered: Map<String, Value>,
    pub play_vars: Map<String, Value>,
    pub vars_files: Map<String, Value>,
    pub role_vars: Map<String, Value>,
    /// set_fact and register results
    pub facts: Map<String, Value>,
    pub extra: Map<String, Value>,
}

impl VarLayers {
    /// Merge the layers (later wins, top-level replace like Ansible's default hash_behaviour=replace).
    pub fn merged(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for layer in [&self.role_defaults, &self.inventory, &self.gathered, &self.play_vars, &self.vars_files, &self.role_vars, &self.facts, &self.extra] {
            for (k, v) in layer {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

/// Parse `-e` arguments, later ones win (top-level replace), as `ansible-playbook -e`:
/// `k=v k2="v 2"` (values stay strings), `@file.yml`/`@file.json` (relative to `cwd`),
/// or inline JSON/YAML starting with `{` or `[` (must be a mapping).
pub fn parse_extra_vars(args: &[String], cwd: &Path) -> Result<Map<String, Value>, ConfigError> {
    let mut out = Map::new();
    for (i, arg) in args.iter().enumerate() {
        let label = PathBuf::from(format!("<-e #{}>", i + 1));
        let data = parse_one(arg, cwd, &label)?;
        out.extend(data);
    }
    Ok(out)
}

fn parse_one(arg: &str, cwd: &Path, label: &Path) -> Result<Map<String, Value>, ConfigError> {
    let trimmed = arg.trim_start();
    if let Some(file) = trimmed.strip_prefix('@') {
        let path = cwd.join(file.trim());
        return match crate::yaml::load_nodes(&path)? {
            n if matches!(n.kind, crate::yaml::NodeKind::Map(_)) => Ok(into_map(n.to_value())),
            n if matches!(n.kind, crate::yaml::NodeKind::Scalar(Value::Null)) => Ok(Map::new()),
            n => Err(ConfigError::at(&path, n.origin.line, n.origin.col, format!("extra vars file must be a mapping, found {}", n.kind_name()))),
        };
    }
    if trimmed.starts_with(['/', '.']) && !trimmed.contains('=') {
        return Err(ConfigError::at(label, 1, 1, format!("extra vars '{arg}' looks like a file name: prefix it with '@'")));
    }
    if trimmed.starts_with(['{', '[']) {
        let n = crate::yaml::parse_nodes(arg, label)?;
        return match n.to_value() {
            Value::Object(m) => Ok(m),
            _ => Err(ConfigError::at(label, 1, 1, format!("extra vars must be a mapping, found {}", n.kind_name()))),
        };
    }
    parse_kv(arg, label)
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Ansible's `parse_kv`: whitespace-separated `key=value`, quotes group and are removed, values are strings.
pub fn parse_kv(arg: &str, label: &Path) -> Result<Map<String, Value>, ConfigError> {
    let mut out = Map::new();
    for (tok, col) in split_args(arg).map_err(|(c, m)| ConfigError::at(label, 1, c, m))? {
        let Some(eq) = find_unescaped_eq(&tok) else {
            return Err(ConfigError::at(label, 1, col, format!("expected key=value in extra vars, got: {tok}")));
        };
        let key = tok[..eq].replace("\\=", "=");
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::at(label, 1, col, format!("empty variable name in extra vars: {tok}")));
        }
        out.insert(key.to_string(), Value::String(unquote(&tok[eq + 1..]).replace("\\=", "=")));
    }
    Ok(out)
}

fn find_unescaped_eq(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'=' && (i == 0 || b[i - 1] != b'\\'))
}

/// Strip one pair of matching outer quotes (`'v'` or `"v"`), as Ansible does for `k=v` arguments.
pub fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// Split on whitespace outside quotes, keeping the quotes (Ansible's split_args); 1-based columns.
fn split_args(s: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let mut quote: Option<(char, usize)> = None;
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        match quote {
            Some((q, _)) if c == q && prev != '\\' => quote = None,
            None if (c == '"' || c == '\'') && prev != '\\' => quote = Some((c, i)),
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), start + 1));
                }
                prev = c;
                continue;
            }
            _ => {}
        }
        if cur.is_empty() {
            start = i;
        }
        cur.push(c);
        prev = c;
    }
    if let Some((_, at)) = quote {
        return Err((at + 1, "unterminated quote in extra vars".into()));
    }
    if !cur.is_empty() {
        out.push((cur, start + 1));
    }
    Ok(out)
}
