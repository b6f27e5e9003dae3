//! Playbooks and roles as data: parsed from located YAML, validated (keywords, modules, required
//! arguments, template syntax) before anything touches a host.
pub mod paths;
pub mod play;
pub mod role;
pub mod task;
pub mod validate;

use mdxconf_config::error::ConfigError;
use mdxconf_config::yaml::{self, Node, NodeKind, Origin};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub use play::Play;
pub use task::{Task, TaskKind};

/// A parsed and validated playbook.
#[derive(Debug)]
pub struct Playbook {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub plays: Vec<Play>,
}

/// Where to look for things while loading.
pub struct LoadCtx {
    pub playbook_dir: PathBuf,
    pub roles_path: Vec<PathBuf>,
    /// Role templates/ directories already syntax-checked.
    pub checked_dirs: std::cell::RefCell<std::collections::HashSet<PathBuf>>,
    pub roles: std::cell::RefCell<role::PlayRoles>,
}

impl Playbook {
    /// Parse and validate a playbook file, all the roles and task files it uses, and their templates.
    pub fn load(path: &Path, roles_path: &[PathBuf]) -> Result<Playbook, ConfigError> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        let ctx = LoadCtx { playbook_dir: dir.clone(), roles_path: roles_path.to_vec(), checked_dirs: Default::default(), roles: Default::default() };
        let root = yaml::load_nodes(path)?;
        let items = match &root.kind {
            NodeKind::Seq(items) => items,
            NodeKind::Scalar(Value::Null) => return Ok(Playbook { path: path.to_path_buf(), dir, plays: vec![] }),
            _ => return Err(err_at(&root.origin, format!("a playbook is a list of plays, found {}", root.kind_name()))),
        };
        let mut plays = Vec::new();
        for item in items {
            // `include:` of a playbook at the top level is Ansible 2.14's older import_playbook
            if let Some(imp) = item.get("import_playbook").or_else(|| item.get("ansible.builtin.import_playbook")).or_else(|| item.get("include")) {
                let file = str_of(imp)?;
                let sub = Playbook::load(&dir.join(file), roles_path)?;
                plays.extend(sub.plays);
                continue;
            }
            plays.push(play::parse_play(item, &ctx)?);
        }
        Ok(Playbook { path: path.to_path_buf(), dir, plays })
    }
}

pub fn err_at(o: &Origin, msg: impl Into<String>) -> ConfigError {
    ConfigError::at(&o.file, o.line, o.col, msg)
}

/// Entries of a mapping node (error if it is not a mapping).
pub fn map_entries<'a>(n: &'a Node, what: &str) -> Result<Vec<(&'a str, &'a Origin, &'a Node)>, ConfigError> {
    match &n.kind {
        NodeKind::Map(entries) => Ok(entries.iter().map(|(k, v)| (k.value.as_str(), &k.origin, v)).collect()),
        _ => Err(err_at(&n.origin, format!("{what} must be a mapping, found {}", n.kind_name()))),
    }
}

pub fn seq_items<'a>(n: &'a Node, what: &str) -> Result<Vec<&'a Node>, ConfigError> {
    match &n.kind {
        NodeKind::Seq(items) => Ok(items.iter().collect()),
        NodeKind::Scalar(Value::Null) => Ok(vec![]),
        _ => Err(err_at(&n.origin, format!("{what} must be a list, found {}", n.kind_name()))),
    }
}

pub fn str_of(n: &Node) -> Result<String, ConfigError> {
    match &n.kind {
        NodeKind::Scalar(Value::String(s)) => Ok(s.clone()),
        NodeKind::Scalar(Value::Number(x)) => Ok(x.to_string()),
        NodeKind::Scalar(Value::Bool(b)) => Ok(b.to_string()),
        _ => Err(err_at(&n.origin, format!("expected a string, found {}", n.kind_name()))),
    }
}

/// A boolean keyword: YAML booleans, or strings yes/no/true/false.
/// A boolean keyword given as a template (`run_once: "{{ x | default(false) }}"`): Ansible renders it per
/// host at run time. Returns `Some(template)` for such a value (after checking its syntax), `None` for a
/// plain boolean, which `bool_of` reads.
pub fn templated_flag(n: &Node) -> Result<Option<Value>, ConfigError> {
    match &n.kind {
        NodeKind::Scalar(Value::String(s)) if mdxconf_config::template::has_jinja(s) => {
            validate::check_template_str(s, &n.origin)?;
            Ok(Some(Value::String(s.clone())))
        }
        _ => Ok(None),
    }
}

pub fn bool_of(n: &Node) -> Result<bool, ConfigError> {
    match &n.kind {
        NodeKind::Scalar(Value::Bool(b)) => Ok(*b),
        NodeKind::Scalar(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" | "y" => Ok(true),
            "no" | "false" | "off" | "0" | "n" => Ok(false),
            _ => Err(err_at(&n.origin, format!("expected a boolean, found `{s}`"))),
        },
        NodeKind::Scalar(Value::Number(x)) => Ok(x.as_f64().unwrap_or(0.0) != 0.0),
        _ => Err(err_at(&n.origin, format!("expected a boolean, found {}", n.kind_name()))),
    }
}

/// A string or a list of strings (tags, notify, listen).
pub fn str_list(n: &Node) -> Result<Vec<String>, ConfigError> {
    match &n.kind {
        NodeKind::Seq(items) => items.iter().map(str_of).collect(),
        NodeKind::Scalar(Value::Null) => Ok(vec![]),
        NodeKind::Scalar(Value::String(s)) => Ok(s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()),
        _ => Ok(vec![str_of(n)?]),
    }
}

/// A mapping of variables.
pub fn vars_map(n: &Node, what: &str) -> Result<Map<String, Value>, ConfigError> {
    match n.to_value() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        // `vars:` as a list of mappings (valid in Ansible 2.14): merged in order
        Value::Array(items) if what == "vars" && items.iter().all(Value::is_object) => {
            Ok(items.into_iter().flat_map(|i| if let Value::Object(m) = i { m } else { Map::new() }).collect())
        }
        _ => Err(err_at(&n.origin, format!("{what} must be a mapping, found {}", n.kind_name()))),
    }
}

/// Load a vars file (mapping at the top level); a missing file is an error.
pub fn load_vars_file(path: &Path) -> Result<Map<String, Value>, ConfigError> {
    let n = yaml::load_nodes(path)?;
    vars_map(&n, "a vars file")
}

/// `main.yml`, `main.yaml` or `main` inside `dir`, if one exists.
pub fn main_file(dir: &Path, base: &str) -> Option<PathBuf> {
    ["yml", "yaml"].iter().map(|e| dir.join(format!("{base}.{e}"))).chain(std::iter::once(dir.join(base))).find(|p| p.is_file())
}
