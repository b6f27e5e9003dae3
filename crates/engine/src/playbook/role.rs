//! Roles as data: roles/NAME/{tasks,handlers,defaults,vars,templates,files,meta}/main.yml.
use super::task::{load_task_file, mentions_magic, Inherit, Task};
use super::validate;
use super::{err_at, load_vars_file, main_file, map_entries, seq_items, str_of, LoadCtx};
use mdxconf_config::error::ConfigError;
use mdxconf_config::yaml::{self, NodeKind, Origin};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A role as seen by its tasks (variables and lookup dirs).
#[derive(Debug)]
pub struct RoleCtx {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Map<String, Value>,
    pub vars: Map<String, Value>,
    /// `roles: - {role: x, vars: {...}}` / `include_role: vars:` — above set_fact, below extra vars.
    pub params: Map<String, Value>,
    pub needs_magic: bool,
}

impl RoleCtx {
    /// Where `copy src:`/`template src:` look: files/, templates/, the role dir.
    pub fn search_dirs(&self) -> Vec<PathBuf> {
        vec![self.path.join("files"), self.path.join("templates"), self.path.clone()]
    }
}

/// Find a role directory by name.
pub fn find_role(name: &str, ctx: &LoadCtx) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_dir().then(|| p.to_path_buf());
    }
    let mut cands: Vec<PathBuf> = vec![ctx.playbook_dir.join("roles").join(name)];
    cands.extend(ctx.roles_path.iter().map(|d| d.join(name)));
    cands.push(PathBuf::from("roles").join(name));
    cands.push(ctx.playbook_dir.join(name));
    cands.into_iter().find(|c| c.is_dir())
}

/// Per-play role bookkeeping (dedup and the play-wide defaults/vars layers).
#[derive(Default)]
pub struct PlayRoles {
    pub loaded: Vec<Arc<RoleCtx>>,
    /// (name, params) of roles already expanded in this play: Ansible runs a role once per play.
    pub seen: Vec<(String, Value)>,
    pub handler_roles: Vec<PathBuf>,
}

/// Start collecting roles for a new play.
pub fn begin_play(ctx: &LoadCtx) {
    *ctx.roles.borrow_mut() = PlayRoles::default();
}

/// The roles loaded by the current play, in load order.
pub fn end_play(ctx: &LoadCtx) -> Vec<Arc<RoleCtx>> {
    std::mem::take(&mut ctx.roles.borrow_mut().loaded)
}

/// Expand a role (its dependencies first) into tasks; its handlers go to `handlers_out`.
/// `dedup`: `roles:` entries and dependencies run once per play (same name and params), like Ansible;
/// include_role/import_role always run.
#[allow(clippy::too_many_arguments)]
pub fn expand_role(
    name: &str,
    tasks_from: &str,
    params: Map<String, Value>,
    origin: &Origin,
    inh: &Inherit,
    ctx: &LoadCtx,
    handlers_out: &mut Vec<Task>,
    dedup: bool,
) -> Result<Vec<Task>, ConfigError> {
    if inh.depth > 32 {
        return Err(err_at(origin, format!("role `{name}`: dependency nesting deeper than 32 (cycle?)")));
    }
    let key = (format!("{name}/{tasks_from}"), Value::Object(params.clone()));
    let dup = dedup && {
        let mut r = ctx.roles.borrow_mut();
        if r.seen.contains(&key) {
            true
        } else {
            r.seen.push(key.clone());
            false
        }
    };
    if dup {
        return Ok(vec![]);
    }
    let dir = find_role(name, ctx).ok_or_else(|| {
        let mut searched = vec![ctx.playbook_dir.join("roles").display().to_string()];
        searched.extend(ctx.roles_path.iter().map(|p| p.display().to_string()));
        searched.push("./roles".into());
        err_at(origin, format!("role `{name}` not found (searched {})", searched.join(", ")))
    })?;
    let defaults = match main_file(&dir.join("defaults"), "main") {
        Some(p) => load_vars_file(&p)?,
        None => Map::new(),
    };
    let vars = match main_file(&dir.join("vars"), "main") {
        Some(p) => load_vars_file(&p)?,
        None => Map::new(),
    };
    validate::check_template_dir(&dir.join("templates"), ctx)?;
    let needs_magic = mentions_magic(&Value::Object(defaults.clone())) || mentions_magic(&Value::Object(vars.clone()));
    let role_name = dir.file_name().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| name.to_string());
    let role = Arc::new(RoleCtx { name: role_name, path: dir.clone(), defaults, vars, params, needs_magic });

    let mut out = Vec::new();
    // Dependencies from meta/main.yml run first.
    if let Some(meta) = main_file(&dir.join("meta"), "main") {
        let root = yaml::load_nodes(&meta)?;
        if let Some(deps) = root.get("dependencies") {
            for d in seq_items(deps, "dependencies")? {
                let (dname, dparams) = role_ref(d)?;
                let mut dinh = inh.clone();
                dinh.depth += 1;
                dinh.dirs = vec![];
                out.extend(expand_role(&dname, "main", dparams, &d.origin, &dinh, ctx, handlers_out, true)?);
            }
        }
    }
    ctx.roles.borrow_mut().loaded.push(role.clone());

    let mut rinh = inh.clone();
    rinh.role = Some(role.clone());
    rinh.dirs = vec![dir.join("tasks"), dir.clone()];
    if let Some(tf) = main_file(&dir.join("tasks"), tasks_from) {
        out.extend(load_task_file(&tf, &rinh, ctx, handlers_out)?);
    } else if tasks_from != "main" {
        return Err(err_at(origin, format!("role `{name}`: tasks file `{tasks_from}` not found in {}", dir.join("tasks").display())));
    }
    // Handlers once per role directory per play.
    let first = {
        let mut r = ctx.roles.borrow_mut();
        if r.handler_roles.contains(&dir) {
            false
        } else {
            r.handler_roles.push(dir.clone());
            true
        }
    };
    if first {
        if let Some(hf) = main_file(&dir.join("handlers"), "main") {
            let mut hinh = rinh.clone();
            hinh.when.clear();
            let mut nested = Vec::new();
            let hs = load_task_file(&hf, &hinh, ctx, &mut nested)?;
            handlers_out.extend(hs);
        }
    }
    Ok(out)
}

/// `roles:` entries: `name` or `{role: name, vars: {...}, tags: [...], when: ..., other params}`.
pub fn role_ref(n: &mdxconf_config::yaml::Node) -> Result<(String, Map<String, Value>), ConfigError> {
    match &n.kind {
        NodeKind::Scalar(_) => Ok((str_of(n)?, Map::new())),
        NodeKind::Map(_) => {
            let mut name = None;
            let mut params = Map::new();
            for (k, _ko, v) in map_entries(n, "a role reference")? {
                match k {
                    "role" | "name" => name = Some(str_of(v)?),
                    "vars" => params.extend(super::vars_map(v, "role vars")?),
                    "tags" | "when" | "become" | "become_user" | "environment" | "tasks_from" | "no_log" | "ignore_errors" | "check_mode" | "diff" => {}
                    _ => {
                        params.insert(k.to_string(), v.to_value());
                    }
                }
            }
            let name = name.ok_or_else(|| err_at(&n.origin, "role reference needs `role:`"))?;
            Ok((name, params))
        }
        _ => Err(err_at(&n.origin, "a role reference is a name or a mapping with `role:`")),
    }
}
