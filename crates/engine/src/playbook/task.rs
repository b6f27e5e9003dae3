//! Tasks: keywords, the module call, blocks and includes. Block/role/import attributes are
//! inherited at parse time so the executor sees flat, self-describing tasks.
use super::paths::{resolve_rel, show_dirs};
use super::role::{self, RoleCtx};
use super::validate;
use super::{bool_of, err_at, map_entries, seq_items, str_list, str_of, templated_flag, LoadCtx};
use mdxconf_config::error::ConfigError;
use mdxconf_config::yaml::{self, Node, Origin};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A condition (`when`, `changed_when`, ...) and where it was written.
#[derive(Debug, Clone)]
pub struct Cond {
    pub expr: Value,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoopKind {
    /// `loop:` and `with_list:`: the list as is
    List,
    /// `with_items:`: flattened one level
    Items,
    /// `with_dict:`: dict2items
    Dict,
    /// `with_<lookup>:` (sequence, together, nested, subelements, ...): executor/lookups.rs
    Lookup(&'static str),
}

#[derive(Debug, Clone)]
pub struct LoopSpec {
    pub kind: LoopKind,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub struct LoopControl {
    pub loop_var: String,
    pub index_var: Option<String>,
    pub label: Option<Value>,
    /// Seconds between items (a number or a template)
    pub pause: Option<Value>,
    /// `extended`: the `ansible_loop` variable; `extended_allitems` adds `allitems`
    pub extended: bool,
    pub extended_allitems: bool,
}

impl Default for LoopControl {
    fn default() -> Self {
        LoopControl { loop_var: "item".into(), index_var: None, label: None, pause: None, extended: false, extended_allitems: true }
    }
}

#[derive(Debug)]
pub enum TaskKind {
    /// A module call (control modules such as set_fact/assert/meta included). `name` is canonical.
    Module {
        name: String,
        args: Value,
    },
    Block {
        block: Vec<Task>,
        rescue: Vec<Task>,
        always: Vec<Task>,
    },
    /// `include_tasks`/`include_role` with a static path: `when`/`loop` gate the include as a whole.
    Include {
        tasks: Vec<Task>,
    },
    /// `include_tasks` whose file name is templated: resolved per host at run time.
    IncludeDynamic {
        file: String,
        dirs: Vec<PathBuf>,
    },
}

/// One task with all inherited attributes resolved.
#[derive(Debug)]
pub struct Task {
    pub name: Option<String>,
    pub kind: TaskKind,
    pub origin: Origin,
    pub when: Vec<Cond>,
    pub loop_: Option<LoopSpec>,
    pub loop_control: LoopControl,
    pub register: Option<String>,
    pub notify: Vec<String>,
    pub listen: Vec<String>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub tags: Vec<String>,
    pub ignore_errors: bool,
    pub changed_when: Option<Cond>,
    pub failed_when: Option<Cond>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    pub no_log: bool,
    pub until: Option<Cond>,
    pub retries: Option<Value>,
    pub delay: Option<Value>,
    pub environment: Vec<Value>,
    pub run_once: bool,
    pub delegate_to: Option<String>,
    /// With `delegate_to`: facts the task sets go to the delegated host (Ansible's `delegate_facts`).
    pub delegate_facts: bool,
    /// A failure here (not caught by a rescue) stops every host of the play after this task.
    pub any_errors_fatal: bool,
    /// An unreachable host stays in the play (counted ok + ignored), as Ansible's ignore_unreachable
    pub ignore_unreachable: bool,
    pub throttle: Option<Value>,
    pub timeout: Option<Value>,
    /// Boolean keywords given as templates (`become: "{{ x }}"`), rendered per host at run time; the
    /// plain field of the same name is the value when there is none.
    pub flag_templates: Vec<(&'static str, Value)>,
    pub vars: Arc<Map<String, Value>>,
    pub role: Option<Arc<RoleCtx>>,
    /// The task (or its role's vars) mentions hostvars/groups/play_hosts: the executor only builds
    /// those (O(hosts)) variables for tasks that need them.
    pub needs_magic: bool,
}

impl Task {
    /// Does the name hold a template (rendered per host for display)?
    pub fn has_templated_name(&self) -> bool {
        self.name.as_deref().is_some_and(|n| n.contains("{{") || n.contains("{%"))
    }

    /// The name as written (with the role prefix); headers and results show it rendered
    /// (`Executor::shown_name`).
    pub fn display_name(&self) -> String {
        let base = match (&self.name, &self.kind) {
            (Some(n), _) => n.clone(),
            (None, TaskKind::Module { name, .. }) => name.clone(),
            (None, TaskKind::Block { .. }) => "block".into(),
            (None, TaskKind::Include { .. } | TaskKind::IncludeDynamic { .. }) => "include_tasks".into(),
        };
        match &self.role {
            Some(r) => format!("{} : {}", r.name, base),
            None => base,
        }
    }
    pub fn module_name(&self) -> &str {
        match &self.kind {
            TaskKind::Module { name, .. } => name,
            TaskKind::Block { .. } => "block",
            _ => "include_tasks",
        }
    }
}

/// Attributes a block, role or import passes down to its tasks.
#[derive(Debug, Clone, Default)]
pub struct Inherit {
    pub when: Vec<Cond>,
    pub tags: Vec<String>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub environment: Vec<Value>,
    pub vars: Arc<Map<String, Value>>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    pub no_log: bool,
    pub ignore_errors: bool,
    pub run_once: bool,
    pub delegate_to: Option<String>,
    pub delegate_facts: bool,
    pub any_errors_fatal: bool,
    pub ignore_unreachable: bool,
    /// Boolean keywords given as templates, rendered per host at run time (keyword, template)
    pub flag_templates: Vec<(&'static str, Value)>,
    /// At most this many hosts run the task at once (an int or a template)
    pub throttle: Option<Value>,
    /// Seconds the task may take on a host (an int or a template)
    pub timeout: Option<Value>,
    pub role: Option<Arc<RoleCtx>>,
    /// Directories for relative include paths (current file's dir first).
    pub dirs: Vec<PathBuf>,
    /// Include depth, to stop recursive includes.
    pub depth: usize,
}

const TASK_KEYWORDS: &[&str] = &[
    "name",
    "when",
    "loop",
    "with_items",
    "with_list",
    "with_dict",
    "loop_control",
    "register",
    "notify",
    "listen",
    "become",
    "become_user",
    "become_method",
    "tags",
    "ignore_errors",
    "ignore_unreachable",
    "changed_when",
    "failed_when",
    "check_mode",
    "diff",
    "no_log",
    "until",
    "retries",
    "delay",
    "environment",
    "run_once",
    "delegate_to",
    "delegate_facts",
    "vars",
    "args",
    "block",
    "rescue",
    "always",
    "any_errors_fatal",
    "throttle",
    "timeout",
    "debugger",
    "collections",
    "module_defaults",
    "remote_user",
    "connection",
    "local_action",
    "action",
];

/// Record (or, for a plain value, forget an inherited) template for a boolean keyword.
pub fn set_flag_template(templates: &mut Vec<(&'static str, Value)>, key: &'static str, t: Option<Value>) {
    templates.retain(|(k, _)| *k != key);
    if let Some(t) = t {
        templates.push((key, t));
    }
}

/// Canonical module name of a task key, from the one registry (modules, control modules, refused ones).
pub fn canonical_module(key: &str) -> Option<String> {
    crate::modules::canonical_name(key).map(str::to_string)
}

/// Parse a list of task nodes.
pub fn parse_tasks(n: &Node, inh: &Inherit, ctx: &LoadCtx, handlers_out: &mut Vec<Task>) -> Result<Vec<Task>, ConfigError> {
    let mut out = Vec::new();
    for item in seq_items(n, "a task list")? {
        parse_task_into(item, inh, ctx, &mut out, handlers_out)?;
    }
    Ok(out)
}

/// Load a task file (include/import) and parse it with `inh`.
pub fn load_task_file(path: &Path, inh: &Inherit, ctx: &LoadCtx, handlers_out: &mut Vec<Task>) -> Result<Vec<Task>, ConfigError> {
    let root = yaml::load_nodes(path)?;
    let mut inh = inh.clone();
    if let Some(d) = path.parent() {
        inh.dirs.insert(0, d.to_path_buf());
    }
    parse_tasks(&root, &inh, ctx, handlers_out)
}

fn parse_task_into(n: &Node, inh: &Inherit, ctx: &LoadCtx, out: &mut Vec<Task>, handlers_out: &mut Vec<Task>) -> Result<(), ConfigError> {
    let entries = map_entries(n, "a task")?;
    // Find the action: block, a module, or an include/import.
    let mut action: Option<(&str, &Origin, &Node, String)> = None;
    // `action:`/`local_action:` carry the module name inside their value.
    let mut action_args: Option<Value> = None;
    let mut is_block = false;
    for (k, ko, v) in &entries {
        if *k == "block" {
            is_block = true;
            continue;
        }
        if matches!(*k, "action" | "local_action") {
            if let Some((prev, ..)) = action {
                return Err(err_at(ko, format!("conflicting action statements: `{prev}` and `{k}` in one task")));
            }
            let (canon, args) = action_value(k, v)?;
            action = Some((k, ko, v, canon));
            action_args = Some(args);
            continue;
        }
        if TASK_KEYWORDS.contains(k) || k.starts_with("with_") {
            continue;
        }
        match canonical_module(k) {
            Some(canon) => {
                if let Some((prev, ..)) = action {
                    return Err(err_at(ko, format!("conflicting action statements: `{prev}` and `{k}` in one task")));
                }
                action = Some((k, ko, v, canon));
            }
            None => return Err(err_at(ko, format!("unknown module or task keyword `{k}`"))),
        }
    }
    if is_block && action.is_some() {
        return Err(err_at(&n.origin, "a task cannot have both `block` and a module"));
    }
    if !is_block && action.is_none() {
        return Err(err_at(&n.origin, "task has no module or action (expected e.g. `copy:`, `command:` or `block:`)"));
    }
    let get = |k: &str| entries.iter().find(|(key, ..)| *key == k).map(|(_, _, v)| *v);

    // Template syntax of everything in the task.
    validate::check_task_templates(n)?;

    let mut own = inh.clone();
    own.depth = inh.depth;
    let mut when = inh.when.clone();
    if let Some(w) = get("when") {
        when.push(Cond { expr: w.to_value(), origin: w.origin.clone() });
    }
    let mut tags = inh.tags.clone();
    if let Some(t) = get("tags") {
        for tag in str_list(t)? {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
    }
    if let Some(b) = get("become") {
        let t = templated_flag(b)?;
        if t.is_none() {
            own.become_ = Some(bool_of(b)?);
        }
        set_flag_template(&mut own.flag_templates, "become", t);
    }
    if let Some(u) = get("become_user") {
        own.become_user = Some(str_of(u)?);
    }
    if let Some(e) = get("environment") {
        own.environment.push(e.to_value());
    }
    if let Some(v) = get("vars") {
        let mut m = (*inh.vars).clone();
        m.extend(super::vars_map(v, "vars")?);
        own.vars = Arc::new(m);
    }
    if let Some(c) = get("check_mode") {
        let t = templated_flag(c)?;
        if t.is_none() {
            own.check_mode = Some(bool_of(c)?);
        }
        set_flag_template(&mut own.flag_templates, "check_mode", t);
    }
    if let Some(d) = get("diff") {
        let t = templated_flag(d)?;
        if t.is_none() {
            own.diff = Some(bool_of(d)?);
        }
        set_flag_template(&mut own.flag_templates, "diff", t);
    }
    if let Some(x) = get("no_log") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.no_log = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "no_log", t);
    }
    if let Some(x) = get("ignore_errors") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.ignore_errors = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "ignore_errors", t);
    }
    if let Some(x) = get("run_once") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.run_once = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "run_once", t);
    }
    if let Some(x) = get("delegate_to") {
        own.delegate_to = Some(str_of(x)?);
    }
    if action.as_ref().is_some_and(|a| a.0 == "local_action") {
        if get("delegate_to").is_some() {
            return Err(err_at(&n.origin, "`local_action` and `delegate_to` in one task"));
        }
        own.delegate_to = Some("localhost".into());
    }
    if let Some(x) = get("delegate_facts") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.delegate_facts = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "delegate_facts", t);
    }
    if let Some(x) = get("any_errors_fatal") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.any_errors_fatal = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "any_errors_fatal", t);
    }
    if let Some(x) = get("ignore_unreachable") {
        let t = templated_flag(x)?;
        if t.is_none() {
            own.ignore_unreachable = bool_of(x)?;
        }
        set_flag_template(&mut own.flag_templates, "ignore_unreachable", t);
    }
    if let Some(x) = get("throttle") {
        own.throttle = Some(x.to_value());
    }
    if let Some(x) = get("timeout") {
        own.timeout = Some(x.to_value());
    }
    let name = get("name").map(str_of).transpose()?;
    let cond = |k: &str| get(k).map(|v| Cond { expr: v.to_value(), origin: v.origin.clone() });

    let mut loop_ = None;
    for (key, ko, v) in &entries {
        let kind = match *key {
            "loop" | "with_list" => LoopKind::List,
            "with_items" => LoopKind::Items,
            "with_dict" => LoopKind::Dict,
            k => match k.strip_prefix("with_") {
                Some(name) => match crate::executor::lookups::LOOKUPS.iter().find(|l| **l == name) {
                    Some(l) => LoopKind::Lookup(l),
                    None => {
                        return Err(err_at(
                            ko,
                            format!(
                                "`{k}`: the `{name}` lookup is not supported (loops: loop, with_items, with_list, with_dict, {})",
                                crate::executor::lookups::LOOKUPS.iter().map(|l| format!("with_{l}")).collect::<Vec<_>>().join(", ")
                            ),
                        ))
                    }
                },
                None => continue,
            },
        };
        if loop_.is_some() {
            return Err(err_at(&v.origin, "only one of loop/with_* per task"));
        }
        loop_ = Some(LoopSpec { kind, value: v.to_value() });
    }
    let mut loop_control = LoopControl::default();
    if let Some(lc) = get("loop_control") {
        for (k, ko, v) in map_entries(lc, "loop_control")? {
            match k {
                "loop_var" => loop_control.loop_var = str_of(v)?,
                "index_var" => loop_control.index_var = Some(str_of(v)?),
                "label" => loop_control.label = Some(v.to_value()),
                "pause" => loop_control.pause = Some(v.to_value()),
                "extended" => loop_control.extended = bool_of(v)?,
                "extended_allitems" => loop_control.extended_allitems = bool_of(v)?,
                _ => return Err(err_at(ko, format!("unknown loop_control key `{k}`"))),
            }
        }
    }

    let mut task = Task {
        name,
        kind: TaskKind::Block { block: vec![], rescue: vec![], always: vec![] },
        origin: n.origin.clone(),
        when,
        loop_,
        loop_control,
        register: get("register").map(str_of).transpose()?,
        notify: get("notify").map(str_list).transpose()?.unwrap_or_default(),
        listen: get("listen").map(str_list).transpose()?.unwrap_or_default(),
        become_: own.become_,
        become_user: own.become_user.clone(),
        tags: tags.clone(),
        ignore_errors: own.ignore_errors,
        changed_when: cond("changed_when"),
        failed_when: cond("failed_when"),
        check_mode: own.check_mode,
        diff: own.diff,
        no_log: own.no_log,
        until: cond("until"),
        retries: get("retries").map(Node::to_value),
        delay: get("delay").map(Node::to_value),
        environment: own.environment.clone(),
        run_once: own.run_once,
        delegate_to: own.delegate_to.clone(),
        delegate_facts: own.delegate_facts,
        any_errors_fatal: own.any_errors_fatal,
        ignore_unreachable: own.ignore_unreachable,
        flag_templates: own.flag_templates.clone(),
        throttle: own.throttle.clone(),
        timeout: own.timeout.clone(),
        vars: own.vars.clone(),
        role: inh.role.clone(),
        needs_magic: false,
    };
    // Inherited when/vars/environment (enclosing block, import, include) count too: they are
    // evaluated in this task's context.
    task.needs_magic = mentions_magic(&n.to_value())
        || task.role.as_ref().is_some_and(|r| r.needs_magic)
        || task.when.iter().any(|c| mentions_magic(&c.expr))
        || task.vars.values().any(mentions_magic)
        || task.environment.iter().any(mentions_magic);

    if is_block {
        // Children inherit the block's when/tags/become/...; the block itself is never "when"-gated.
        let mut child = own.clone();
        child.when = task.when.clone();
        child.tags = tags;
        let block = parse_tasks(get("block").unwrap(), &child, ctx, handlers_out)?;
        let rescue = get("rescue").map(|r| parse_tasks(r, &child, ctx, handlers_out)).transpose()?.unwrap_or_default();
        let always = get("always").map(|r| parse_tasks(r, &child, ctx, handlers_out)).transpose()?.unwrap_or_default();
        task.when.clear();
        task.kind = TaskKind::Block { block, rescue, always };
        out.push(task);
        return Ok(());
    }

    let (key, key_origin, argnode, canon) = action.unwrap();
    let _ = key;
    let args = match action_args {
        Some(a) => merge_value(&canon, a, &argnode.origin, get("args"))?,
        None => merge_args(&canon, argnode, get("args"))?,
    };
    match canon.as_str() {
        "import_tasks" | "include_tasks" => {
            let file = include_file_arg(&args, key_origin)?;
            if inh.depth > 32 {
                return Err(err_at(key_origin, "include nesting deeper than 32 (recursive include?)"));
            }
            let mut child = own.clone();
            child.tags = tags;
            child.depth = inh.depth + 1;
            if file.contains("{{") || file.contains("{%") {
                if canon == "import_tasks" {
                    return Err(err_at(key_origin, "import_tasks needs a static file name (use include_tasks for templated names)"));
                }
                task.kind = TaskKind::IncludeDynamic { file, dirs: inh.dirs.clone() };
                out.push(task);
                return Ok(());
            }
            let path = resolve_rel(&file, &inh.dirs, &ctx.playbook_dir)
                .ok_or_else(|| err_at(key_origin, format!("task file `{file}` not found (looked in {})", show_dirs(&inh.dirs, &ctx.playbook_dir))))?;
            if canon == "import_tasks" {
                // Static: the import's when/tags apply to every imported task.
                child.when = task.when.clone();
                out.extend(load_task_file(&path, &child, ctx, handlers_out)?);
            } else {
                // Dynamic: when/loop gate the include; included tasks only inherit tags/become/vars.
                child.when = inh.when.clone();
                let tasks = load_task_file(&path, &child, ctx, handlers_out)?;
                task.kind = TaskKind::Include { tasks };
                out.push(task);
            }
            Ok(())
        }
        "import_role" | "include_role" => {
            let obj = args.as_object().cloned().unwrap_or_default();
            let rname = obj.get("name").and_then(Value::as_str).ok_or_else(|| err_at(key_origin, format!("{canon} needs `name:`")))?;
            let tasks_from = obj.get("tasks_from").and_then(Value::as_str).unwrap_or("main");
            let params = obj.get("vars").and_then(Value::as_object).cloned().unwrap_or_default();
            let mut child = own.clone();
            child.tags = tags;
            child.depth = inh.depth + 1;
            child.when = if canon == "import_role" { task.when.clone() } else { inh.when.clone() };
            let tasks = role::expand_role(rname, tasks_from, params, key_origin, &child, ctx, handlers_out, false)?;
            if canon == "import_role" {
                out.extend(tasks);
            } else {
                task.kind = TaskKind::Include { tasks };
                out.push(task);
            }
            Ok(())
        }
        _ => {
            let mut search = task.role.as_ref().map(|r| r.search_dirs()).unwrap_or_default();
            search.extend(inh.dirs.iter().cloned());
            let call = validate::ModuleCall { module: &canon, args: &args, origin: key_origin, nodes: [Some(argnode), get("args")].into_iter().flatten().collect(), search };
            let tfile = validate::check_module_args(&call, ctx)?;
            if canon == "template" {
                // What the template file uses decides whether hostvars/groups must be built for it.
                task.needs_magic |= match tfile {
                    // a vault template is not decrypted here (the password may come later): assume it does
                    Some(p) => std::fs::read_to_string(&p).map(|t| mdxconf_config::vault::is_vault(t.as_bytes()) || mentions_magic(&Value::String(t))).unwrap_or(true),
                    None => true,
                };
            }
            task.kind = TaskKind::Module { name: canon, args };
            out.push(task);
            Ok(())
        }
    }
}

/// `action: copy src=a dest=b` / `local_action: {module: copy, src: a}`: the module (canonical) and
/// its arguments.
fn action_value(key: &str, n: &Node) -> Result<(String, Value), ConfigError> {
    let (module, args) = match n.to_value() {
        Value::String(s) => {
            let s = s.trim_start();
            let (m, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
            (m.to_string(), Value::String(rest.trim().to_string()))
        }
        Value::Object(mut m) => match m.remove("module") {
            Some(Value::String(name)) => (name, Value::Object(m)),
            _ => return Err(err_at(&n.origin, format!("`{key}` as a mapping needs `module:`"))),
        },
        _ => return Err(err_at(&n.origin, format!("`{key}` must be a string (`module args`) or a mapping with `module:`"))),
    };
    let canon = canonical_module(&module).ok_or_else(|| err_at(&n.origin, format!("unknown module `{module}` in `{key}`")))?;
    let args = match args {
        Value::String(s) if s.is_empty() => Value::Null,
        other => other,
    };
    Ok((canon, args))
}

/// Module arguments: a mapping, a free-form string (`command: ls -l`), or `k=v` pairs; plus `args:`.
pub fn merge_args(module: &str, n: &Node, extra: Option<&Node>) -> Result<Value, ConfigError> {
    merge_value(module, n.to_value(), &n.origin, extra)
}

fn merge_value(module: &str, v: Value, origin: &Origin, extra: Option<&Node>) -> Result<Value, ConfigError> {
    let mut m = match v {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        Value::String(s) => parse_free_form(module, &s),
        other => {
            if matches!(module, "include_tasks" | "import_tasks") {
                let mut m = Map::new();
                m.insert("file".into(), Value::String(other.to_string()));
                m
            } else {
                return Err(err_at(origin, format!("arguments of `{module}` must be a mapping or a string")));
            }
        }
    };
    if let Some(e) = extra {
        for (k, v) in super::vars_map(e, "args")? {
            m.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(m))
}

/// Modules whose string argument is a command line (kept whole in `_raw_params`, with leading
/// `k=v` options such as `creates=`/`chdir=` extracted as Ansible does).
const FREE_FORM: &[&str] = &["command", "shell", "raw", "script"];

fn parse_free_form(module: &str, s: &str) -> Map<String, Value> {
    let mut m = Map::new();
    match module {
        "include_tasks" | "import_tasks" | "include_vars" => {
            m.insert("file".into(), Value::String(s.trim().to_string()));
            return m;
        }
        "debug" | "fail" if !s.contains('=') => {
            m.insert("msg".into(), Value::String(s.to_string()));
            return m;
        }
        "meta" => {
            m.insert("_raw_params".into(), Value::String(s.trim().to_string()));
            return m;
        }
        _ => {}
    }
    let free = FREE_FORM.contains(&module);
    let mut rest = Vec::new();
    // byte ranges of the option words taken out of a command line
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for (start, end) in word_spans(s) {
        let word = &s[start..end];
        match word.split_once('=') {
            Some((k, v)) if is_ident(k) && (!free || FREE_FORM_OPTS.contains(&k)) => {
                m.insert(k.to_string(), Value::String(mdxconf_config::vars::unquote(v)));
                taken.push((start, end));
            }
            _ => rest.push(word),
        }
    }
    if free {
        // The command keeps its own text (newlines of a `shell: |` script included): only the
        // option words and the blanks after them are cut out.
        let mut cmd = String::with_capacity(s.len());
        let mut at = 0;
        for (start, end) in taken {
            cmd.push_str(&s[at..start]);
            at = end + s[end..].len() - s[end..].trim_start_matches([' ', '\t']).len();
        }
        cmd.push_str(&s[at..]);
        let cmd = cmd.trim();
        if !cmd.is_empty() {
            m.insert("_raw_params".into(), Value::String(cmd.to_string()));
        }
    } else if !rest.is_empty() {
        m.insert("_raw_params".into(), Value::String(rest.join(" ")));
    }
    m
}

const FREE_FORM_OPTS: &[&str] = &["creates", "removes", "chdir", "executable", "warn", "stdin", "argv"];

fn is_ident(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Byte ranges of the words of `s`: split on whitespace outside quotes and outside `{{ }}`
/// (quotes stay part of the word).
fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        if quote.is_none() && depth == 0 && c.is_whitespace() {
            if let Some(b) = start.take() {
                out.push((b, i));
            }
            continue;
        }
        start.get_or_insert(i);
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == '{' && next == Some('{') {
            depth += 1;
            it.next();
        } else if c == '}' && next == Some('}') && depth > 0 {
            depth -= 1;
            it.next();
        } else if (c == '"' || c == '\'') && depth == 0 {
            quote = Some(c);
        }
    }
    if let Some(b) = start {
        out.push((b, s.len()));
    }
    out
}

fn include_file_arg(args: &Value, o: &Origin) -> Result<String, ConfigError> {
    args.get("file").or_else(|| args.get("_raw_params")).and_then(Value::as_str).map(str::to_string).ok_or_else(|| err_at(o, "include/import needs a file name"))
}

/// Whether a value mentions the O(hosts) magic variables.
pub fn mentions_magic(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("hostvars") || s.contains("groups") || s.contains("play_hosts") || s.contains("play_batch"),
        Value::Array(a) => a.iter().any(mentions_magic),
        Value::Object(m) => m.values().any(mentions_magic),
        _ => false,
    }
}

/// Parse a node as a list of task nodes from a file: used for dynamic includes at run time.
pub fn parse_dynamic_file(path: &Path, inh: &Inherit, ctx: &LoadCtx) -> Result<Vec<Task>, ConfigError> {
    let mut handlers = Vec::new();
    load_task_file(path, inh, ctx, &mut handlers)
}

#[cfg(test)]
mod tests {
    use super::parse_free_form;
    use serde_json::json;

    #[test]
    fn free_form_arguments() {
        let m = parse_free_form("command", "touch {{ dir }}/x creates={{ dir }}/x chdir=/tmp");
        assert_eq!(serde_json::Value::Object(m), json!({"_raw_params": "touch {{ dir }}/x", "creates": "{{ dir }}/x", "chdir": "/tmp"}));
        let m = parse_free_form("shell", "echo a=b 'c d' | grep x");
        assert_eq!(m["_raw_params"], "echo a=b 'c d' | grep x");
        let m = parse_free_form("copy", "src=a.txt dest=\"/tmp/with space\" mode=0644");
        assert_eq!(serde_json::Value::Object(m), json!({"src": "a.txt", "dest": "/tmp/with space", "mode": "0644"}));
        let m = parse_free_form("debug", "msg={{ x }}");
        assert_eq!(m["msg"], "{{ x }}");
        let m = parse_free_form("debug", "just a message");
        assert_eq!(m["msg"], "just a message");
        assert_eq!(parse_free_form("meta", "flush_handlers")["_raw_params"], "flush_handlers");
        assert_eq!(parse_free_form("include_tasks", "other.yml")["file"], "other.yml");
    }

    /// `shell: |` scripts keep their lines: joined with spaces, a multi-line `for` loop is a syntax
    /// error (the nvidia_driver role's "find kernels without a built module" failed so).
    #[test]
    fn free_form_command_keeps_its_text() {
        let script = "for k in a b; do\n  echo \"$k\"  |  grep -q x || echo $k\ndone\n";
        assert_eq!(parse_free_form("shell", script)["_raw_params"], script.trim());
        let m = parse_free_form("shell", "creates=/x\nfor k in a; do\n  echo {{ item }} chdir=/tmp\ndone");
        assert_eq!(serde_json::Value::Object(m), json!({"_raw_params": "for k in a; do\n  echo {{ item }} \ndone", "creates": "/x", "chdir": "/tmp"}));
        let m = parse_free_form("command", "a creates=/x b\tc");
        assert_eq!(m["_raw_params"], "a b\tc");
        assert_eq!(parse_free_form("shell", "echo 'x  y'   {{ a  |  b }}")["_raw_params"], "echo 'x  y'   {{ a  |  b }}");
    }
}
