//! One task on one host: when, loop, until/retries, the module (or control module) call,
//! changed_when/failed_when, register, notify, recap counters and output.
use super::conditions;
use super::connect::EnvConnection;
use super::host::HostStatus;
use super::loops;
use super::outcome::{truthy, ItemOutcome};
use super::vars::OMIT;
use super::{Executor, PlayRt};
use crate::modules::ModuleCtx;
use crate::output::{Event, Status};
use crate::playbook::{Task, TaskKind};
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// One task on one host, as the steps of running it see it.
pub struct TaskRun<'a> {
    pub prt: &'a PlayRt<'a>,
    pub task: &'a Task,
    /// The module's (canonical or given) name and its raw arguments
    pub module: &'a str,
    pub args: &'a Value,
    pub h: usize,
    /// The task's shown name, rendered once before it runs
    pub name: String,
}

const NO_LOG_MSG: &str = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

impl Executor {
    /// Run `task` on host `h`. Returns the variables it set (for `run_once` to copy to the other hosts).
    pub async fn run_task_host(&self, prt: &PlayRt<'_>, task: &Task, h: usize) -> Map<String, Value> {
        let TaskKind::Module { name: module, args } = &task.kind else { return Map::new() };
        let mut ctx = self.build_ctx(prt, Some(task), h);
        // rendered once, before the task runs (a loop's item or a registered result must not change it)
        let t = TaskRun { prt, task, module, args, h, name: self.shown_name(task, &ctx) };
        let mut shared = Map::new();

        let outcome = match &task.loop_ {
            None => {
                let when = conditions::all_true(&self.templater, &task.when, &Value::Object(ctx.clone()));
                match when {
                    Err(e) => ItemOutcome::failed(e.to_string()),
                    Ok(false) => ItemOutcome::skipped(),
                    Ok(true) => self.run_item(&t, &mut ctx, &mut shared).await,
                }
            }
            Some(spec) => {
                let dirs = self.search_dirs(task);
                let env = super::lookups::LookupEnv { search_dirs: &dirs };
                let items =
                    self.templater.render_value(&spec.value, &Value::Object(ctx.clone()), &task.origin).map_err(|e| e.to_string()).and_then(|v| loops::items(spec, v, &env));
                match items {
                    // as Ansible: a loop that cannot be rendered (an undefined variable) is skipped when the
                    // task's `when` is false without the item, and fails the task otherwise
                    Err(e) => match conditions::all_true(&self.templater, &task.when, &Value::Object(ctx.clone())) {
                        Ok(false) => ItemOutcome::skipped(),
                        _ => ItemOutcome::failed(e),
                    },
                    Ok(items) => self.run_loop(&t, &mut ctx, items, &mut shared).await,
                }
            }
        };
        self.finish_task(&t, outcome, &mut shared, &ctx);
        shared
    }

    async fn run_loop(&self, t: &TaskRun<'_>, ctx: &mut Map<String, Value>, items: Vec<Value>, shared: &mut Map<String, Value>) -> ItemOutcome {
        let TaskRun { prt, task, module, h, .. } = *t;
        let task_name = t.name.as_str();
        let lv = &task.loop_control.loop_var;
        let mut results = Vec::new();
        let (mut any_changed, mut any_failed, mut all_skipped) = (false, false, true);
        let mut diffs = Vec::new();
        let header = prt.free.then_some(task_name);
        let no_log = self.flag(task, "no_log", ctx).unwrap_or(task.no_log);
        let lc = &task.loop_control;
        let pause = self.num_f(&lc.pause, ctx, task);
        let all = if lc.extended { items.clone() } else { vec![] };
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 && pause > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(pause)).await;
            }
            ctx.insert(lv.clone(), item.clone());
            if let Some(iv) = &lc.index_var {
                ctx.insert(iv.clone(), Value::from(i));
            }
            if lc.extended {
                ctx.insert("ansible_loop".into(), super::lookups::extended_vars(&all, i, lc.extended_allitems));
                ctx.insert("ansible_loop_var".into(), Value::String(lv.clone()));
            }
            let cval = Value::Object(ctx.clone());
            let r = match conditions::all_true(&self.templater, &task.when, &cval) {
                Err(e) => ItemOutcome::failed(e.to_string()),
                Ok(false) => ItemOutcome::skipped(),
                Ok(true) => self.run_item(t, ctx, shared).await,
            };
            if r.status == Status::Unreachable {
                return r;
            }
            let label = match &task.loop_control.label {
                Some(l) => self.templater.render_value(l, &cval, &task.origin).map(|v| loops::label(&v)).unwrap_or_else(|_| loops::label(&item)),
                None => loops::label(&item),
            };
            let label = if no_log { "None".to_string() } else { label };
            let msg = if no_log { NO_LOG_MSG.to_string() } else { r.msg.clone() };
            let ev = Event {
                play: &prt.play.name,
                task: task_name,
                module,
                host: &self.hosts[h].name,
                status: r.status,
                msg: &msg,
                item: Some(label),
                diff: if no_log { &[] } else { &r.diff },
                data: (!no_log).then_some(&r.data),
                ignored: false,
                loop_summary: false,
                delegated: r.delegated.as_deref(),
            };
            self.out.event(header, &ev);
            any_changed |= r.status == Status::Changed;
            any_failed |= r.status == Status::Failed;
            all_skipped &= r.status == Status::Skipped;
            diffs.extend(r.diff);
            let mut d = r.data;
            d.insert("item".into(), item);
            d.insert("ansible_loop_var".into(), Value::String(lv.clone()));
            results.push(Value::Object(d));
        }
        ctx.remove(lv);
        ctx.remove("ansible_loop");
        let mut data = Map::new();
        data.insert("changed".into(), Value::Bool(any_changed));
        data.insert("failed".into(), Value::Bool(any_failed));
        let msg = if any_failed { "One or more items failed" } else { "All items completed" };
        data.insert("msg".into(), Value::String(msg.into()));
        if all_skipped {
            data.insert("skipped".into(), Value::Bool(true));
        }
        data.insert("results".into(), Value::Array(results));
        let status = if any_failed {
            Status::Failed
        } else if all_skipped {
            Status::Skipped
        } else if any_changed {
            Status::Changed
        } else {
            Status::Ok
        };
        ItemOutcome { status, msg: msg.into(), diff: diffs, data, set_facts: Map::new(), delegated: None }
    }

    /// One module run with until/retries, changed_when and failed_when.
    async fn run_item(&self, t: &TaskRun<'_>, ctx: &mut Map<String, Value>, shared: &mut Map<String, Value>) -> ItemOutcome {
        let task = t.task;
        let retries = match &task.until {
            Some(_) => self.num(&task.retries, ctx, task, 3).max(1),
            None => 1,
        };
        let delay = self.num(&task.delay, ctx, task, 5);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut r = self.exec_once(t, ctx).await;
            if r.status == Status::Unreachable {
                return r;
            }
            // Facts set by this item are visible to the next items and conditions.
            for (k, v) in &r.set_facts {
                if !self.extra.contains_key(k) {
                    ctx.insert(k.clone(), v.clone());
                }
                shared.insert(k.clone(), v.clone());
            }
            if let Some(reg) = &task.register {
                ctx.insert(reg.clone(), Value::Object(r.data.clone()));
            }
            if let Err(e) = self.apply_changed_failed_when(task, &mut r, ctx) {
                return ItemOutcome::failed(e);
            }
            let Some(until) = &task.until else { return r };
            if task.until.is_some() {
                r.data.insert("attempts".into(), Value::from(attempt));
            }
            if let Some(reg) = &task.register {
                ctx.insert(reg.clone(), Value::Object(r.data.clone()));
            }
            match conditions::eval(&self.templater, until, &Value::Object(ctx.clone())) {
                Ok(true) => return r,
                Ok(false) if attempt < retries => {
                    tokio::time::sleep(Duration::from_secs(delay)).await;
                }
                Ok(false) => {
                    r.status = Status::Failed;
                    r.msg = format!("Retried {retries} times and `until` never held");
                    r.data.insert("failed".into(), Value::Bool(true));
                    r.data.insert("msg".into(), Value::String(r.msg.clone()));
                    return r;
                }
                Err(e) => return ItemOutcome::failed(e.to_string()),
            }
        }
    }

    /// Where a task's relative file names are looked for: its role's files/, templates/ and directory,
    /// then the playbook's.
    pub(super) fn search_dirs(&self, task: &Task) -> Vec<std::path::PathBuf> {
        let mut dirs = task.role.as_ref().map(|r| r.search_dirs()).unwrap_or_default();
        dirs.extend([self.playbook_dir.join("files"), self.playbook_dir.join("templates"), self.playbook_dir.clone()]);
        dirs
    }

    /// A boolean keyword given as a template, rendered with this host's variables (None: not templated,
    /// the task's plain field holds the value). A template that fails to render counts as false, as an
    /// undefined value would; its error shows when the task itself renders.
    pub(super) fn flag(&self, task: &Task, key: &str, ctx: &Map<String, Value>) -> Option<bool> {
        let (_, t) = task.flag_templates.iter().find(|(k, _)| *k == key)?;
        Some(match self.templater.render_value(t, &Value::Object(ctx.clone()), &task.origin) {
            Ok(Value::Bool(b)) => b,
            Ok(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1" | "y"),
            Ok(v) => truthy(&v),
            Err(_) => false,
        })
    }

    /// A number of seconds (int or float, or a template of one); 0 when absent or not a number.
    fn num_f(&self, v: &Option<Value>, ctx: &Map<String, Value>, task: &Task) -> f64 {
        match v {
            None => 0.0,
            Some(v) => match self.templater.render_value(v, &Value::Object(ctx.clone()), &task.origin) {
                Ok(Value::Number(n)) => n.as_f64().unwrap_or(0.0).max(0.0),
                Ok(Value::String(s)) => s.trim().parse::<f64>().unwrap_or(0.0).max(0.0),
                _ => 0.0,
            },
        }
    }

    pub(super) fn num(&self, v: &Option<Value>, ctx: &Map<String, Value>, task: &Task, default: u64) -> u64 {
        match v {
            None => default,
            Some(v) => match self.templater.render_value(v, &Value::Object(ctx.clone()), &task.origin) {
                Ok(Value::Number(n)) => n.as_u64().unwrap_or(default),
                Ok(Value::String(s)) => s.trim().parse().unwrap_or(default),
                _ => default,
            },
        }
    }

    fn apply_changed_failed_when(&self, task: &Task, r: &mut ItemOutcome, ctx: &Map<String, Value>) -> Result<(), String> {
        if task.changed_when.is_none() && task.failed_when.is_none() {
            return Ok(());
        }
        let cval = Value::Object(ctx.clone());
        if let Some(c) = &task.changed_when {
            let changed = conditions::eval(&self.templater, c, &cval).map_err(|e| e.to_string())?;
            r.data.insert("changed".into(), Value::Bool(changed));
            if r.status != Status::Failed && r.status != Status::Skipped {
                r.status = if changed { Status::Changed } else { Status::Ok };
            }
        }
        if let Some(c) = &task.failed_when {
            let failed = conditions::eval(&self.templater, c, &cval).map_err(|e| e.to_string())?;
            r.data.insert("failed_when_result".into(), Value::Bool(failed));
            r.data.insert("failed".into(), Value::Bool(failed));
            if failed {
                r.status = Status::Failed;
                if r.msg.is_empty() {
                    r.msg = "failed_when condition is true".into();
                }
            } else if r.status == Status::Failed {
                let changed = r.data.get("changed").and_then(Value::as_bool).unwrap_or(false);
                r.status = if changed { Status::Changed } else { Status::Ok };
            }
        }
        Ok(())
    }

    /// Render the arguments and run the module (or control module) once.
    async fn exec_once(&self, t: &TaskRun<'_>, ctx: &Map<String, Value>) -> ItemOutcome {
        let TaskRun { task, h, module, .. } = *t;
        let secs = self.num(&task.timeout, ctx, task, 0);
        let mut o = if secs == 0 {
            self.exec_module(t, ctx).await
        } else {
            // `timeout:` as Ansible: the task fails; the host's connection stays usable
            match tokio::time::timeout(Duration::from_secs(secs), self.exec_module(t, ctx)).await {
                Ok(o) => o,
                Err(_) => ItemOutcome::failed(format!("The {module} action failed to execute in the expected time frame ({secs}) and was terminated")),
            }
        };
        if task.delegate_to.is_some() {
            if let Ok(target) = self.delegate_target(task, h, ctx) {
                o.delegated = self.target_name(&target);
                if self.flag(task, "delegate_facts", ctx).unwrap_or(task.delegate_facts) {
                    self.delegate_facts(&target, &mut o.set_facts);
                }
            }
        }
        o
    }

    async fn exec_module(&self, t: &TaskRun<'_>, ctx: &Map<String, Value>) -> ItemOutcome {
        let TaskRun { prt, task, module, args, h, .. } = *t;
        let cval = minijinja::Value::from_serialize(ctx);
        let rendered = match self.templater.render_value_in(args, &cval, &task.origin) {
            Ok(Value::Object(m)) => m,
            Ok(_) => Map::new(),
            Err(e) => return ItemOutcome::failed(e.to_string()),
        };
        let args: Map<String, Value> = rendered.into_iter().filter(|(_, v)| v.as_str() != Some(OMIT)).collect();
        let check = self.flag(task, "check_mode", ctx).or(task.check_mode).unwrap_or(self.opts.check);
        match module {
            "set_fact" => return super::control::set_fact(args),
            "debug" => return super::control::debug(&self.templater, args, ctx, task),
            "assert" => return super::control::assert(&self.templater, args, ctx, task),
            "fail" => return ItemOutcome::failed(args.get("msg").and_then(Value::as_str).unwrap_or("Failed as requested from task").to_string()),
            "include_vars" => return super::control::include_vars(args, task, &self.playbook_dir),
            "pause" => return super::control::pause(args).await,
            "add_host" => return self.add_host(args),
            "group_by" => return self.group_by(h, args),
            _ => {}
        }
        let conn = match self.connection(prt, task, h, ctx).await {
            Ok(c) => c,
            Err(msg) => {
                let mut o = ItemOutcome::failed(msg);
                o.status = Status::Unreachable;
                return o;
            }
        };
        let become_on = self
            .flag(task, "become", ctx)
            .or(task.become_)
            .or(prt.play.become_)
            .or_else(|| ctx.get("ansible_become").map(truthy))
            .unwrap_or(self.opts.ansible_cfg.as_ref().is_some_and(|c| c.become_));
        let become_user = become_on.then(|| {
            task.become_user
                .clone()
                .or_else(|| prt.play.become_user.clone())
                .or_else(|| ctx.get("ansible_become_user").and_then(Value::as_str).map(str::to_string))
                .or_else(|| self.opts.ansible_cfg.as_ref().and_then(|c| c.become_user.clone()))
                .unwrap_or_else(|| "root".into())
        });
        // `become_user: "{{ some_user }}"` is a template like any keyword (roles pass the user as a variable)
        let become_user = match become_user {
            Some(u) if u.contains("{{") || u.contains("{%") => match self.templater.render_value_in(&Value::String(u), &cval, &task.origin) {
                Ok(Value::String(s)) => Some(s),
                Ok(v) => Some(v.to_string()),
                Err(e) => return ItemOutcome::failed(e.to_string()),
            },
            other => other,
        };
        let env = match self.environment(task, &cval) {
            Ok(e) => e,
            Err(e) => return ItemOutcome::failed(e),
        };
        let conn: Arc<dyn Connection> = if env.is_empty() { conn } else { Arc::new(EnvConnection { inner: conn, env }) };
        if module == "reboot" {
            return super::control::reboot(self, &conn, become_user.as_deref(), args, check, h, prt, ctx).await;
        }
        let vars = Value::Object(ctx.clone());
        let search_dirs = self.search_dirs(task);
        let mctx = ModuleCtx {
            conn: &*conn,
            become_user: become_user.as_deref(),
            check,
            diff: self.flag(task, "diff", ctx).or(task.diff).unwrap_or(self.opts.diff),
            vars: &vars,
            templater: &self.templater,
            search_dirs,
        };
        match crate::modules::run_module(module, &args, &mctx).await {
            Ok(r) => {
                let facts = r.data.get("ansible_facts").and_then(Value::as_object).cloned();
                let mut o = ItemOutcome::from_module(r);
                if let Some(f) = facts {
                    let mut m = Map::new();
                    crate::facts::absorb(&mut m, &f);
                    o.set_facts = m;
                }
                o
            }
            Err(e) => match e.downcast_ref::<mdxconf_transport::TransportError>() {
                Some(te @ mdxconf_transport::TransportError::Unreachable { .. }) => {
                    let mut o = ItemOutcome::failed(te.to_string());
                    o.status = Status::Unreachable;
                    o
                }
                _ => ItemOutcome::failed(format!("{e:#}")),
            },
        }
    }

    /// The task's merged `environment:` (each entry a mapping or a template yielding one).
    fn environment(&self, task: &Task, ctx: &minijinja::Value) -> Result<Vec<(String, String)>, String> {
        let mut out: Vec<(String, String)> = Vec::new();
        for e in &task.environment {
            let v = self.templater.render_value_in(e, ctx, &task.origin).map_err(|e| e.to_string())?;
            let Value::Object(m) = v else { return Err("environment must be a mapping".into()) };
            for (k, v) in m {
                let s = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                out.retain(|(a, _)| *a != k);
                out.push((k, s));
            }
        }
        Ok(out)
    }

    /// Counters, status, register, notify and output for a finished task.
    fn finish_task(&self, t: &TaskRun<'_>, mut o: ItemOutcome, shared: &mut Map<String, Value>, ctx: &Map<String, Value>) {
        let TaskRun { prt, task, h, .. } = *t;
        let (host, task_name) = (self.hosts[h].name.as_str(), t.name.as_str());
        let header = prt.free.then_some(task_name);
        let module = task.module_name();
        let ignore_errors = self.flag(task, "ignore_errors", ctx).unwrap_or(task.ignore_errors);
        let ignore_unreachable = self.flag(task, "ignore_unreachable", ctx).unwrap_or(task.ignore_unreachable);
        let ignored = (o.status == Status::Failed && ignore_errors) || (o.status == Status::Unreachable && ignore_unreachable);
        let no_log = self.flag(task, "no_log", ctx).unwrap_or(task.no_log);
        {
            let mut st = self.hosts[h].lock();
            match o.status {
                Status::Ok => st.stats.ok += 1,
                Status::Changed => {
                    st.stats.ok += 1;
                    st.stats.changed += 1;
                }
                Status::Skipped => st.stats.skipped += 1,
                Status::Failed if ignored => st.stats.ignored += 1,
                Status::Failed => {
                    st.stats.failed += 1;
                    st.status = HostStatus::Failed;
                    st.facts.insert("ansible_failed_result".into(), Value::Object(o.data.clone()));
                    let mut ft = Map::new();
                    ft.insert("name".into(), Value::String(task_name.to_string()));
                    st.facts.insert("ansible_failed_task".into(), Value::Object(ft));
                }
                // ignore_unreachable: the host stays in the play (Ansible counts it ok and ignored)
                Status::Unreachable if ignored => {
                    st.stats.ok += 1;
                    st.stats.ignored += 1;
                }
                Status::Unreachable => {
                    st.stats.unreachable += 1;
                    st.status = HostStatus::Unreachable;
                }
            }
            // Facts set by the items (run_item collected them in `shared`) and by the task itself.
            // facts a module returned rank below play vars; set_fact/include_vars results above them
            let store = if matches!(module, "set_fact" | "include_vars") { &mut st.facts } else { &mut st.gathered };
            for (k, v) in shared.iter().chain(o.set_facts.iter()) {
                store.insert(k.clone(), v.clone());
            }
            if let Some(reg) = &task.register {
                if o.status != Status::Unreachable {
                    st.facts.insert(reg.clone(), Value::Object(o.data.clone()));
                    shared.insert(reg.clone(), Value::Object(o.data.clone()));
                }
            }
            if o.status == Status::Changed && !task.notify.is_empty() {
                let cval = Value::Object(ctx.clone());
                for n in &task.notify {
                    let n = self.templater.render_str(n, &cval, &task.origin).unwrap_or_else(|_| n.clone());
                    if !st.notified.contains(&n) {
                        st.notified.push(n);
                    }
                }
            }
        }
        for (k, v) in std::mem::take(&mut o.set_facts) {
            shared.insert(k, v);
        }
        let looped = task.loop_.is_some() && o.data.contains_key("results");
        let msg = if no_log && o.status != Status::Skipped { NO_LOG_MSG.to_string() } else { o.msg.clone() };
        let ev = Event {
            play: &prt.play.name,
            task: task_name,
            module,
            host,
            status: o.status,
            msg: &msg,
            item: None,
            diff: if no_log { &[] } else { &o.diff },
            data: (!no_log).then_some(&o.data),
            ignored,
            loop_summary: looped,
            delegated: o.delegated.as_deref(),
        };
        self.out.event(header, &ev);
    }
}
