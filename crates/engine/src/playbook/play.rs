//! One play: hosts pattern, play-level settings, roles, task sections and handlers.
use super::role::{self, RoleCtx};
use super::task::{mentions_magic, parse_tasks, set_flag_template, Cond, Inherit, Task};
use super::{bool_of, err_at, load_vars_file, map_entries, seq_items, str_list, str_of, templated_flag, vars_map, LoadCtx};
use mdxconf_config::error::ConfigError;
use mdxconf_config::yaml::{Node, Origin};
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Debug)]
pub struct Play {
    pub name: String,
    pub hosts: String,
    pub origin: Origin,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub remote_user: Option<String>,
    pub connection: Option<String>,
    /// None: as ansible.cfg's `gathering` says (gather unless it is `explicit`)
    pub gather_facts: Option<bool>,
    pub vars: Map<String, Value>,
    /// Static vars_files, merged in order.
    pub vars_files: Map<String, Value>,
    /// vars_files entries with templated names, rendered per host at play start.
    pub vars_files_dynamic: Vec<(String, Origin)>,
    /// pre_tasks, roles + tasks, post_tasks: handlers are flushed after each section.
    pub sections: Vec<Vec<Task>>,
    pub handlers: Vec<Task>,
    pub roles: Vec<Arc<RoleCtx>>,
    pub strategy: Option<String>,
    pub tags: Vec<String>,
    pub needs_magic: bool,
    /// `serial:` batch sizes (empty: one batch of all hosts); the last one repeats.
    pub serial: Vec<SerialItem>,
    /// `max_fail_percentage:` per batch (abort when more than this share of the batch failed).
    pub max_fail_percentage: Option<f64>,
    /// Notified handlers run also on hosts that failed.
    pub force_handlers: bool,
}

/// One `serial:` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum SerialItem {
    Count(i64),
    /// Percent of the play's hosts (rounded down, at least 1)
    Percent(i64),
    /// A templated entry, rendered with play and extra vars when the play starts
    Template(String, Origin),
}

/// A `serial:` value (scalar or list) as data; `Err` is the message for a bad entry.
pub fn serial_items(v: &Value, origin: &Origin) -> Result<Vec<SerialItem>, String> {
    match v {
        Value::Array(items) => items.iter().map(|i| serial_item(i, origin)).collect(),
        Value::Null => Ok(vec![]),
        other => Ok(vec![serial_item(other, origin)?]),
    }
}

fn serial_item(v: &Value, origin: &Origin) -> Result<SerialItem, String> {
    let bad = || {
        format!(
            "serial: expected a number of hosts, a percentage like \"30%\" or a list of them, found `{}`",
            match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        )
    };
    match v {
        Value::Number(n) => n.as_i64().map(SerialItem::Count).ok_or_else(bad),
        Value::String(s) if s.contains("{{") || s.contains("{%") => Ok(SerialItem::Template(s.clone(), origin.clone())),
        Value::String(s) => {
            let t = s.trim();
            match t.strip_suffix('%') {
                Some(p) => p.trim().parse().map(SerialItem::Percent).map_err(|_| bad()),
                None => t.parse().map(SerialItem::Count).map_err(|_| bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// `max_fail_percentage`: a number, or a string `30` / `30%`.
fn percent_of(n: &Node) -> Result<f64, ConfigError> {
    let v = match n.to_value() {
        Value::Number(x) => x.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    };
    v.filter(|p: &f64| p.is_finite()).ok_or_else(|| err_at(&n.origin, format!("max_fail_percentage: expected a number (percent of the batch), found {}", n.kind_name())))
}

impl Play {
    pub fn all_tasks(&self) -> impl Iterator<Item = &Task> {
        self.sections.iter().flatten()
    }
}

const PLAY_KEYWORDS: &[&str] = &[
    "name",
    "hosts",
    "become",
    "become_user",
    "become_method",
    "gather_facts",
    "vars",
    "vars_files",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "tags",
    "strategy",
    "serial",
    "any_errors_fatal",
    "max_fail_percentage",
    "remote_user",
    "connection",
    "environment",
    "check_mode",
    "diff",
    "no_log",
    "ignore_errors",
    "collections",
    "module_defaults",
    "force_handlers",
    "order",
    "gather_subset",
    "gather_timeout",
    "run_once",
    "ignore_unreachable",
    "throttle",
    "timeout",
];

pub fn parse_play(n: &Node, ctx: &LoadCtx) -> Result<Play, ConfigError> {
    let entries = map_entries(n, "a play")?;
    for (k, ko, _) in &entries {
        if !PLAY_KEYWORDS.contains(k) {
            let hint = if super::task::canonical_module(k).is_some() { " (module calls belong under `tasks:`)" } else { "" };
            return Err(err_at(ko, format!("unknown play keyword `{k}`{hint}")));
        }
    }
    let get = |k: &str| entries.iter().find(|(key, ..)| *key == k).map(|(_, _, v)| *v);
    let hosts = match get("hosts") {
        Some(h) => match h.to_value() {
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>().join(":"),
            _ => str_of(h)?,
        },
        None => return Err(err_at(&n.origin, "play has no `hosts:`")),
    };
    super::validate::check_task_templates_keys(n, &["name", "hosts", "vars"])?;
    role::begin_play(ctx);

    let mut inh = Inherit { dirs: vec![ctx.playbook_dir.clone()], ..Default::default() };
    if let Some(t) = get("tags") {
        inh.tags = str_list(t)?;
    }
    if let Some(b) = get("become") {
        let t = templated_flag(b)?;
        if t.is_none() {
            inh.become_ = Some(bool_of(b)?);
        }
        set_flag_template(&mut inh.flag_templates, "become", t);
    }
    if let Some(u) = get("become_user") {
        inh.become_user = Some(str_of(u)?);
    }
    if let Some(e) = get("environment") {
        inh.environment.push(e.to_value());
    }
    if let Some(c) = get("check_mode") {
        let t = templated_flag(c)?;
        if t.is_none() {
            inh.check_mode = Some(bool_of(c)?);
        }
        set_flag_template(&mut inh.flag_templates, "check_mode", t);
    }
    if let Some(d) = get("diff") {
        let t = templated_flag(d)?;
        if t.is_none() {
            inh.diff = Some(bool_of(d)?);
        }
        set_flag_template(&mut inh.flag_templates, "diff", t);
    }
    if let Some(x) = get("no_log") {
        let t = templated_flag(x)?;
        if t.is_none() {
            inh.no_log = bool_of(x)?;
        }
        set_flag_template(&mut inh.flag_templates, "no_log", t);
    }
    if let Some(x) = get("ignore_errors") {
        let t = templated_flag(x)?;
        if t.is_none() {
            inh.ignore_errors = bool_of(x)?;
        }
        set_flag_template(&mut inh.flag_templates, "ignore_errors", t);
    }
    if let Some(x) = get("any_errors_fatal") {
        let t = templated_flag(x)?;
        if t.is_none() {
            inh.any_errors_fatal = bool_of(x)?;
        }
        set_flag_template(&mut inh.flag_templates, "any_errors_fatal", t);
    }
    if let Some(x) = get("ignore_unreachable") {
        let t = templated_flag(x)?;
        if t.is_none() {
            inh.ignore_unreachable = bool_of(x)?;
        }
        set_flag_template(&mut inh.flag_templates, "ignore_unreachable", t);
    }
    inh.throttle = get("throttle").map(Node::to_value);
    inh.timeout = get("timeout").map(Node::to_value);
    let serial = match get("serial") {
        Some(sn) => {
            // Each list entry reports its own position.
            match &sn.kind {
                mdxconf_config::yaml::NodeKind::Seq(items) => {
                    items.iter().map(|i| serial_item(&i.to_value(), &i.origin).map_err(|m| err_at(&i.origin, m))).collect::<Result<Vec<_>, _>>()?
                }
                _ => serial_items(&sn.to_value(), &sn.origin).map_err(|m| err_at(&sn.origin, m))?,
            }
        }
        None => vec![],
    };
    let max_fail_percentage = get("max_fail_percentage").map(percent_of).transpose()?;
    let vars = get("vars").map(|v| vars_map(v, "vars")).transpose()?.unwrap_or_default();
    let mut vars_files = Map::new();
    let mut vars_files_dynamic = Vec::new();
    if let Some(vf) = get("vars_files") {
        for item in seq_items(vf, "vars_files")? {
            let f = str_of(item)?;
            if f.contains("{{") {
                vars_files_dynamic.push((f, item.origin.clone()));
                continue;
            }
            let p = ctx.playbook_dir.join(&f);
            if !p.is_file() {
                return Err(err_at(&item.origin, format!("vars file `{f}` not found (relative to {})", ctx.playbook_dir.display())));
            }
            vars_files.extend(load_vars_file(&p)?);
        }
    }

    let mut handlers = Vec::new();
    let mut sections = Vec::new();
    let pre = get("pre_tasks").map(|t| parse_tasks(t, &inh, ctx, &mut handlers)).transpose()?.unwrap_or_default();
    sections.push(pre);

    let mut main = Vec::new();
    if let Some(rs) = get("roles") {
        for r in seq_items(rs, "roles")? {
            let (name, params) = role::role_ref(r)?;
            let mut rinh = inh.clone();
            if let Some(w) = r.get("when") {
                rinh.when.push(Cond { expr: w.to_value(), origin: w.origin.clone() });
            }
            if let Some(t) = r.get("tags") {
                for tag in str_list(t)? {
                    if !rinh.tags.contains(&tag) {
                        rinh.tags.push(tag);
                    }
                }
            }
            if let Some(b) = r.get("become") {
                rinh.become_ = Some(bool_of(b)?);
            }
            if let Some(u) = r.get("become_user") {
                rinh.become_user = Some(str_of(u)?);
            }
            let tasks_from = r.get("tasks_from").map(str_of).transpose()?.unwrap_or_else(|| "main".into());
            main.extend(role::expand_role(&name, &tasks_from, params, &r.origin, &rinh, ctx, &mut handlers, true)?);
        }
    }
    if let Some(t) = get("tasks") {
        main.extend(parse_tasks(t, &inh, ctx, &mut handlers)?);
    }
    sections.push(main);
    let post = get("post_tasks").map(|t| parse_tasks(t, &inh, ctx, &mut handlers)).transpose()?.unwrap_or_default();
    sections.push(post);
    if let Some(h) = get("handlers") {
        let mut nested = Vec::new();
        handlers.extend(parse_tasks(h, &inh, ctx, &mut nested)?);
        handlers.extend(nested);
    }
    check_notify(&sections, &handlers)?;
    let roles = role::end_play(ctx);
    let needs_magic = mentions_magic(&Value::Object(vars.clone())) || mentions_magic(&Value::Object(vars_files.clone()));
    Ok(Play {
        name: get("name").map(str_of).transpose()?.unwrap_or_else(|| hosts.clone()),
        hosts,
        origin: n.origin.clone(),
        become_: inh.become_,
        become_user: inh.become_user,
        remote_user: get("remote_user").map(str_of).transpose()?,
        connection: get("connection").map(str_of).transpose()?,
        gather_facts: get("gather_facts").map(bool_of).transpose()?,
        vars,
        vars_files,
        vars_files_dynamic,
        sections,
        handlers,
        roles,
        strategy: get("strategy").map(str_of).transpose()?,
        tags: inh.tags,
        needs_magic,
        serial,
        max_fail_percentage,
        force_handlers: get("force_handlers").map(bool_of).transpose()?.unwrap_or(false),
    })
}

/// Every static `notify:` must name a handler (by name, `role : name`, or a `listen` topic).
fn check_notify(sections: &[Vec<Task>], handlers: &[Task]) -> Result<(), ConfigError> {
    let known = |n: &str| handlers.iter().any(|h| h.name.as_deref() == Some(n) || h.listen.iter().any(|l| l == n) || h.display_name() == n);
    fn walk<'a>(tasks: &'a [Task], out: &mut Vec<&'a Task>) {
        for t in tasks {
            out.push(t);
            match &t.kind {
                super::task::TaskKind::Block { block, rescue, always } => {
                    walk(block, out);
                    walk(rescue, out);
                    walk(always, out);
                }
                super::task::TaskKind::Include { tasks } => walk(tasks, out),
                _ => {}
            }
        }
    }
    let mut all = Vec::new();
    for s in sections {
        walk(s, &mut all);
    }
    walk(handlers, &mut all);
    for t in all {
        for n in &t.notify {
            if !n.contains("{{") && !known(n) {
                return Err(err_at(&t.origin, format!("notify: no handler named `{n}` in this play")));
            }
        }
    }
    Ok(())
}
