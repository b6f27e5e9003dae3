//! The executor: plays over hosts with a forks limit. Strategy `linear` (each task on all hosts
//! before the next, Ansible's default) or `free` (each host runs through the play on its own).
//! With `serial`, each batch of hosts runs the whole play (tasks and handlers) before the next; a
//! batch that failed entirely, `any_errors_fatal` or `max_fail_percentage` end the run (see `failures`).
pub mod batches;
pub mod conditions;
pub mod connect;
pub mod control;
pub mod delegate;
pub mod failures;
pub mod handlers;
pub mod host;
pub mod host_table;
pub mod inventory_ops;
pub mod lookups;
pub mod loops;
pub mod module_call;
pub mod outcome;
pub mod task_run;
pub mod vars;

use crate::options::ApplyOptions;
use crate::output::Output;
use crate::playbook::task::{Inherit, Task, TaskKind};
use crate::playbook::{Play, Playbook};
use crate::summary::RunSummary;
use failures::Abort;
use futures_util::future::BoxFuture;
use host::HostStatus;
use host_table::HostTable;
use mdxconf_config::inventory::Inventory;
use mdxconf_config::template::Templater;
use mdxconf_config::yaml::Origin;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::Semaphore;

pub struct Executor {
    opts: ApplyOptions,
    templater: Templater,
    playbook_dir: PathBuf,
    roles_path: Vec<PathBuf>,
    /// Every inventory host (for hostvars); only targeted ones appear in the recap.
    hosts: HostTable,
    /// The inventory; `add_host`/`group_by` change it during the run.
    inventory: Mutex<Inventory>,
    sem: Semaphore,
    out: Output,
    extra: Map<String, Value>,
    /// The `groups` magic variable, kept current by `add_host`/`group_by`.
    groups_var: RwLock<Value>,
    /// Where the inventory's group_vars/ and host_vars/ came from (layer order), for add_host/group_by.
    vars_dirs: Vec<PathBuf>,
    /// Connections to `delegate_to` targets that are not inventory hosts, one per address.
    adhoc_conns: tokio::sync::Mutex<HashMap<String, Arc<dyn mdxconf_transport::Connection>>>,
    free: bool,
}

/// One play being run.
pub struct PlayRt<'a> {
    pub play: &'a Play,
    /// The hosts of this batch (all live hosts without `serial`)
    pub hosts: Vec<usize>,
    pub role_defaults: Map<String, Value>,
    pub role_vars: Map<String, Value>,
    pub play_hosts: Value,
    pub play_hosts_all: Value,
    /// `ansible_play_batch` / `play_hosts`: this batch's hosts
    pub play_batch: Value,
    pub needs_magic: bool,
    pub free: bool,
    pub ended: AtomicBool,
    /// An [`Abort`] (as u8): why the batch ended early
    pub abort: AtomicU8,
    pub gather: Option<Task>,
}

impl PlayRt<'_> {
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }
}

/// What a run is about, besides the options.
pub struct RunInputs {
    pub inventory: Inventory,
    pub playbook_dir: PathBuf,
    /// Where the inventory's group_vars/ and host_vars/ came from (layer order), for add_host/group_by.
    pub vars_dirs: Vec<PathBuf>,
    /// `--limit` (None: all hosts)
    pub limit: Option<HashSet<String>>,
}

impl Executor {
    pub fn output(&self) -> &Output {
        &self.out
    }

    pub fn new(opts: ApplyOptions, inputs: RunInputs, out: Output) -> Self {
        let RunInputs { inventory, playbook_dir, vars_dirs, limit } = inputs;
        let hosts = HostTable::new(&inventory, limit);
        let groups_var = Value::Object(inventory.groups_var());
        let forks = opts.forks.max(1);
        let free = opts.strategy.as_deref() == Some("free");
        Executor {
            extra: opts.extra_vars.clone(),
            roles_path: opts.roles_path.clone(),
            opts,
            templater: Templater::new(),
            playbook_dir,
            hosts,
            inventory: Mutex::new(inventory),
            sem: Semaphore::new(forks),
            out,
            groups_var: RwLock::new(groups_var),
            vars_dirs,
            adhoc_conns: Default::default(),
            free,
        }
    }

    /// Hosts a play targets, in inventory order, after --limit and without hosts that failed earlier.
    pub fn play_hosts(&self, play: &Play) -> Vec<usize> {
        let matched: HashSet<String> = self.inv().hosts_matching(&play.hosts).into_iter().collect();
        self.hosts.iter().enumerate().filter(|(_, s)| matched.contains(&s.name) && self.hosts.in_limit(&s.name)).map(|(i, _)| i).collect()
    }

    pub fn inv(&self) -> MutexGuard<'_, Inventory> {
        self.inventory.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn run(&mut self, pb: &Playbook) -> RunSummary {
        'plays: for play in &pb.plays {
            if crate::interrupt::interrupted() {
                break;
            }
            self.materialize_added_hosts();
            let targets: Vec<usize> = self.play_hosts(play);
            let mut live = Vec::new();
            for &h in &targets {
                let mut st = self.hosts[h].lock();
                if st.status != HostStatus::Active {
                    // Failed earlier: still listed in the recap (a host of a later batch is listed
                    // only once its batch starts, as Ansible's recap shows hosts that ran).
                    st.seen = true;
                }
                if st.status == HostStatus::Ended {
                    st.status = HostStatus::Active;
                }
                st.vars_files_dyn.clear();
                if st.status == HostStatus::Active {
                    live.push(h);
                }
            }
            if live.is_empty() {
                self.out.play_start(&play.name);
                self.out.warn(&format!("play `{}`: no hosts matched (or all failed earlier)", play.name));
                continue;
            }
            let batches = match self.serial_sizes(play) {
                Ok(sizes) => batches::split(&live, &sizes),
                Err(e) => {
                    // A bad templated `serial:` fails the play's hosts and ends the run (Ansible: an error).
                    self.out.play_start(&play.name);
                    let prt = self.play_rt(play, &targets, &live);
                    for &h in &live {
                        {
                            let mut st = self.hosts[h].lock();
                            st.status = HostStatus::Failed;
                            st.stats.failed += 1;
                            st.seen = true;
                        }
                        self.report_simple(&prt, "serial", &self.hosts[h].name, crate::output::Status::Failed, &e);
                    }
                    break 'plays;
                }
            };
            for batch in batches {
                if crate::interrupt::interrupted() {
                    break 'plays;
                }
                self.materialize_added_hosts();
                let ex: &Executor = self;
                for &h in &batch {
                    ex.hosts[h].lock().seen = true;
                }
                ex.out.play_start(&play.name);
                let prt = ex.play_rt(play, &targets, &batch);
                ex.load_dynamic_vars_files(&prt, &batch);
                let live: Vec<usize> = ex.active(&batch);
                if prt.free {
                    let futs = live.iter().map(|&h| {
                        let prt = &prt;
                        async move {
                            let _permit = ex.sem.acquire().await.ok();
                            ex.run_play_sections(prt, vec![h]).await;
                        }
                    });
                    futures_util::future::join_all(futs).await;
                } else {
                    ex.run_play_sections(&prt, live).await;
                }
                // Ansible stops the playbook when a whole batch failed, or a batch was aborted.
                let all_failed = batch.iter().all(|&h| matches!(ex.hosts[h].status(), HostStatus::Failed | HostStatus::Unreachable));
                match prt.abort_state() {
                    Abort::StopRun => break 'plays,
                    _ if all_failed => break 'plays,
                    Abort::EndPlay => break,
                    Abort::EndBatch | Abort::None => {}
                }
            }
        }
        for slot in &self.hosts {
            // take the connection out first: the host's lock must not be held across the await
            let conn = slot.lock().conn.take();
            if let Some(c) = conn {
                c.close().await;
            }
        }
        for (_, c) in self.adhoc_conns.lock().await.drain() {
            c.close().await;
        }
        self.summary()
    }

    async fn run_play_sections(&self, prt: &PlayRt<'_>, hosts: Vec<usize>) {
        if let Some(g) = &prt.gather {
            self.run_list(prt, std::slice::from_ref(g), hosts.clone(), false).await;
        }
        for section in &prt.play.sections {
            self.run_list(prt, section, hosts.clone(), false).await;
            self.flush_handlers(prt, &hosts).await;
        }
    }

    fn play_rt<'a>(&self, play: &'a Play, targets: &[usize], batch: &[usize]) -> PlayRt<'a> {
        let mut role_defaults = Map::new();
        let mut role_vars = Map::new();
        for r in &play.roles {
            role_defaults.extend(r.defaults.iter().map(|(k, v)| (k.clone(), v.clone())));
            role_vars.extend(r.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let names = Value::Array(targets.iter().map(|&h| Value::String(self.hosts[h].name.clone())).collect());
        let batch_names = Value::Array(batch.iter().map(|&h| Value::String(self.hosts[h].name.clone())).collect());
        let cfg = self.opts.ansible_cfg.as_ref();
        let gather = play
            .gather_facts
            .unwrap_or(cfg.is_none_or(|c| c.gather_by_default))
            .then(|| Task::synthetic("Gathering Facts", "setup", Value::Object(Map::new()), play.origin.clone()));
        PlayRt {
            play,
            hosts: batch.to_vec(),
            role_defaults,
            role_vars,
            play_hosts: names.clone(),
            play_hosts_all: names,
            play_batch: batch_names,
            needs_magic: play.needs_magic,
            free: self.free || play.strategy.as_deref() == Some("free"),
            ended: AtomicBool::new(false),
            abort: AtomicU8::new(0),
            gather,
        }
    }

    /// vars_files with templated names: render per host, load, keep for this play.
    fn load_dynamic_vars_files(&self, prt: &PlayRt, hosts: &[usize]) {
        if prt.play.vars_files_dynamic.is_empty() {
            return;
        }
        for &h in hosts {
            let ctx = Value::Object(self.build_ctx(prt, None, h));
            let mut loaded = Map::new();
            let mut err = None;
            for (f, origin) in &prt.play.vars_files_dynamic {
                match self.templater.render_str(f, &ctx, origin) {
                    Ok(name) => match crate::playbook::load_vars_file(&self.playbook_dir.join(&name)) {
                        Ok(m) => loaded.extend(m),
                        Err(e) => err = Some(e.to_string()),
                    },
                    Err(e) => err = Some(e.to_string()),
                }
            }
            let mut st = self.hosts[h].lock();
            if let Some(e) = err {
                st.status = HostStatus::Failed;
                st.stats.failed += 1;
                drop(st);
                self.report_simple(prt, "vars_files", &self.hosts[h].name, crate::output::Status::Failed, &e);
            } else {
                st.vars_files_dyn = loaded;
            }
        }
    }

    pub fn report_simple(&self, prt: &PlayRt, task: &str, host: &str, status: crate::output::Status, msg: &str) {
        let ev = crate::output::Event {
            play: &prt.play.name,
            task,
            module: task,
            host,
            status,
            msg,
            item: None,
            diff: &[],
            data: None,
            ignored: false,
            loop_summary: false,
            delegated: None,
        };
        self.out.event(Some(task), &ev);
    }

    fn active(&self, hosts: &[usize]) -> Vec<usize> {
        hosts.iter().copied().filter(|&h| self.hosts[h].is_active()).collect()
    }

    /// Run tasks on a set of hosts (one host under the free strategy).
    pub fn run_list<'a>(&'a self, prt: &'a PlayRt<'a>, tasks: &'a [Task], hosts: Vec<usize>, handlers: bool) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for task in tasks {
                if prt.ended() || crate::interrupt::interrupted() {
                    break;
                }
                let active = self.active(&hosts);
                if active.is_empty() {
                    break;
                }
                match &task.kind {
                    TaskKind::Block { .. } => self.run_block(prt, task, active, handlers).await,
                    TaskKind::Include { tasks } => self.run_include(prt, task, tasks, active, handlers).await,
                    TaskKind::IncludeDynamic { file, dirs } => self.run_include_dynamic(prt, task, file, dirs, active, handlers).await,
                    TaskKind::Module { name, args } => {
                        if !handlers && !conditions::tags_selected(&task.tags, &self.opts.tags, &self.opts.skip_tags) {
                            continue;
                        }
                        if name == "meta" {
                            self.run_meta(prt, task, args, &active).await;
                            continue;
                        }
                        if !prt.free {
                            // Ansible templates the header with the first host's variables
                            let name = if task.has_templated_name() { self.shown_name(task, &self.build_ctx(prt, Some(task), active[0])) } else { task.display_name() };
                            if handlers {
                                self.out.handler_start(&name);
                            } else {
                                self.out.task_start(&name);
                            }
                        }
                        self.run_task_on(prt, task, active.clone()).await;
                        self.check_failures(prt, task, &active);
                    }
                }
            }
        })
    }

    /// One module task on hosts (in parallel up to `forks` under linear).
    async fn run_task_on(&self, prt: &PlayRt<'_>, task: &Task, active: Vec<usize>) {
        // `run_once: "{{ ... }}"` is rendered with the first host's variables, as Ansible does
        let run_once = task.run_once || (!task.flag_templates.is_empty() && self.flag(task, "run_once", &self.build_ctx(prt, Some(task), active[0])).unwrap_or(false));
        if run_once || failures::bypasses_host_loop(task.module_name()) {
            let first = active[0];
            let share = self.run_task_host(prt, task, first).await;
            for &h in &active[1..] {
                let mut st = self.hosts[h].lock();
                for (k, v) in &share {
                    st.facts.insert(k.clone(), v.clone());
                }
            }
            return;
        }
        // `throttle:` caps this task's hosts in flight below forks (templated with the first host's vars)
        let throttle = match &task.throttle {
            Some(_) => self.num(&task.throttle, &self.build_ctx(prt, Some(task), active[0]), task, 0) as usize,
            None => 0,
        };
        let throttle = (throttle > 0).then(|| tokio::sync::Semaphore::new(throttle));
        let throttle = &throttle;
        let futs = active.iter().map(|&h| async move {
            let _permit = if prt.free { None } else { self.sem.acquire().await.ok() };
            let _throttled = match throttle {
                Some(t) => t.acquire().await.ok(),
                None => None,
            };
            self.run_task_host(prt, task, h).await;
        });
        futures_util::future::join_all(futs).await;
    }

    /// block/rescue/always with Ansible's semantics: hosts that fail in `block` run `rescue`
    /// (and count as rescued, not failed, if it succeeds); `always` runs for every host that entered.
    async fn run_block(&self, prt: &PlayRt<'_>, task: &Task, active: Vec<usize>, handlers: bool) {
        let TaskKind::Block { block, rescue, always } = &task.kind else { return };
        // Inside a block with a rescue, a failure is not final yet (any_errors_fatal waits for it).
        let rescuable = !rescue.is_empty();
        if rescuable {
            for &h in &active {
                self.hosts[h].lock().rescue_depth += 1;
            }
        }
        self.run_list(prt, block, active.clone(), handlers).await;
        if rescuable {
            for &h in &active {
                let mut st = self.hosts[h].lock();
                st.rescue_depth = st.rescue_depth.saturating_sub(1);
            }
        }
        let failed: Vec<usize> = active.iter().copied().filter(|&h| self.hosts[h].status() == HostStatus::Failed).collect();
        if !rescue.is_empty() && !failed.is_empty() {
            for &h in &failed {
                let mut st = self.hosts[h].lock();
                st.status = HostStatus::Active;
                st.stats.failed = st.stats.failed.saturating_sub(1);
                st.stats.rescued += 1;
            }
            self.run_list(prt, rescue, failed, handlers).await;
        }
        if !always.is_empty() {
            let failed_now: Vec<usize> = active.iter().copied().filter(|&h| self.hosts[h].status() == HostStatus::Failed).collect();
            for &h in &failed_now {
                self.hosts[h].lock().status = HostStatus::Active;
            }
            let entered: Vec<usize> = active.iter().copied().filter(|&h| self.hosts[h].is_active()).collect();
            self.run_list(prt, always, entered, handlers).await;
            for &h in &failed_now {
                let mut st = self.hosts[h].lock();
                if st.status == HostStatus::Active {
                    st.status = HostStatus::Failed;
                }
            }
        }
    }

    /// `include_tasks`/`include_role`: `when` decided per host once; with a loop, the included
    /// tasks run once per item (item visible to them).
    async fn run_include(&self, prt: &PlayRt<'_>, task: &Task, tasks: &[Task], active: Vec<usize>, handlers: bool) {
        let per_host = self.include_items(prt, task, &active);
        let max = per_host.iter().map(|(_, items)| items.len()).max().unwrap_or(0);
        for i in 0..max {
            let hs: Vec<usize> = per_host.iter().filter(|(_, items)| items.len() > i).map(|(h, _)| *h).collect();
            for (h, items) in &per_host {
                if let Some(Some(item)) = items.get(i) {
                    let mut st = self.hosts[*h].lock();
                    st.scope.insert(task.loop_control.loop_var.clone(), item.clone());
                    if let Some(iv) = &task.loop_control.index_var {
                        st.scope.insert(iv.clone(), Value::from(i));
                    }
                }
            }
            self.run_list(prt, tasks, hs, handlers).await;
        }
        if task.loop_.is_some() {
            for (h, _) in &per_host {
                let mut st = self.hosts[*h].lock();
                st.scope.remove(&task.loop_control.loop_var);
                if let Some(iv) = &task.loop_control.index_var {
                    st.scope.remove(iv);
                }
            }
        }
    }

    /// For each host: the include's items (`None` = no loop, run once), after `when`.
    fn include_items(&self, prt: &PlayRt, task: &Task, active: &[usize]) -> Vec<(usize, Vec<Option<Value>>)> {
        let mut out = Vec::new();
        for &h in active {
            let mut ctx = self.build_ctx(prt, Some(task), h);
            let res: Result<Vec<Option<Value>>, String> = (|| match &task.loop_ {
                None => {
                    let c = Value::Object(ctx.clone());
                    Ok(if conditions::all_true(&self.templater, &task.when, &c).map_err(|e| e.to_string())? { vec![None] } else { vec![] })
                }
                Some(spec) => {
                    let c = Value::Object(ctx.clone());
                    let rendered = self.templater.render_value(&spec.value, &c, &task.origin).map_err(|e| e.to_string())?;
                    let mut v = Vec::new();
                    let dirs = self.search_dirs(task);
                    for item in loops::items(spec, rendered, &lookups::LookupEnv { search_dirs: &dirs })? {
                        ctx.insert(task.loop_control.loop_var.clone(), item.clone());
                        if conditions::all_true(&self.templater, &task.when, &Value::Object(ctx.clone())).map_err(|e| e.to_string())? {
                            v.push(Some(item));
                        }
                    }
                    Ok(v)
                }
            })();
            match res {
                Ok(items) => out.push((h, items)),
                Err(e) => self.fail_host(prt, task, h, &e),
            }
        }
        out
    }

    async fn run_include_dynamic(&self, prt: &PlayRt<'_>, task: &Task, file: &str, dirs: &[PathBuf], active: Vec<usize>, handlers: bool) {
        // Group hosts by the file their variables select.
        let mut groups: Vec<(PathBuf, Vec<usize>)> = Vec::new();
        for &h in &active {
            let ctx = Value::Object(self.build_ctx(prt, Some(task), h));
            let r = (|| -> Result<Option<PathBuf>, String> {
                if !conditions::all_true(&self.templater, &task.when, &ctx).map_err(|e| e.to_string())? {
                    return Ok(None);
                }
                let name = self.templater.render_str(file, &ctx, &task.origin).map_err(|e| e.to_string())?;
                let ctx_l = self.load_ctx();
                crate::playbook::paths::resolve_rel(&name, dirs, &ctx_l.playbook_dir).map(Some).ok_or_else(|| format!("{}: included task file `{name}` not found", task.origin))
            })();
            match r {
                Ok(Some(p)) => match groups.iter_mut().find(|(q, _)| *q == p) {
                    Some((_, hs)) => hs.push(h),
                    None => groups.push((p, vec![h])),
                },
                Ok(None) => {}
                Err(e) => self.fail_host(prt, task, h, &e),
            }
        }
        for (path, hs) in groups {
            let inh = Inherit {
                tags: task.tags.clone(),
                become_: task.become_,
                become_user: task.become_user.clone(),
                environment: task.environment.clone(),
                vars: task.vars.clone(),
                role: task.role.clone(),
                dirs: dirs.to_vec(),
                depth: 1,
                ..Default::default()
            };
            let parsed = {
                let lc = self.load_ctx();
                crate::playbook::task::parse_dynamic_file(&path, &inh, &lc)
            };
            match parsed {
                Ok(tasks) => self.run_list(prt, &tasks, hs, handlers).await,
                Err(e) => {
                    for h in hs {
                        self.fail_host(prt, task, h, &e.to_string());
                    }
                }
            }
        }
    }

    pub fn load_ctx(&self) -> crate::playbook::LoadCtx {
        crate::playbook::LoadCtx { playbook_dir: self.playbook_dir.clone(), roles_path: self.roles_path.clone(), checked_dirs: Default::default(), roles: Default::default() }
    }

    /// Mark a host failed with a message (errors outside a module run: templating, includes).
    pub fn fail_host(&self, prt: &PlayRt, task: &Task, h: usize, msg: &str) {
        {
            let mut st = self.hosts[h].lock();
            st.stats.failed += 1;
            st.status = HostStatus::Failed;
        }
        let name = task.display_name();
        let ev = crate::output::Event {
            play: &prt.play.name,
            task: &name,
            module: task.module_name(),
            host: &self.hosts[h].name,
            status: crate::output::Status::Failed,
            msg,
            item: None,
            diff: &[],
            data: None,
            ignored: false,
            loop_summary: false,
            delegated: None,
        };
        self.out.event(prt.free.then_some(name.as_str()), &ev);
    }

    /// `meta:` acts on the play, not one host's task list.
    async fn run_meta(&self, prt: &PlayRt<'_>, task: &Task, args: &Value, active: &[usize]) {
        let action = args.get("_raw_params").and_then(Value::as_str).unwrap_or("noop");
        match action {
            "flush_handlers" => self.flush_handlers(prt, active).await,
            "end_play" | "end_batch" => {
                prt.abort(if action == "end_play" { Abort::EndPlay } else { Abort::EndBatch });
                for &h in &prt.hosts {
                    let mut st = self.hosts[h].lock();
                    if st.status == HostStatus::Active {
                        st.status = HostStatus::Ended;
                    }
                }
            }
            "end_host" => {
                for &h in active {
                    let ctx = Value::Object(self.build_ctx(prt, Some(task), h));
                    match conditions::all_true(&self.templater, &task.when, &ctx) {
                        Ok(true) => self.hosts[h].lock().status = HostStatus::Ended,
                        Ok(false) => {}
                        Err(e) => self.fail_host(prt, task, h, &e.to_string()),
                    }
                }
            }
            "clear_facts" => {
                for &h in active {
                    let mut st = self.hosts[h].lock();
                    st.facts.clear();
                    st.gathered.clear();
                }
            }
            "clear_host_errors" => {
                for &h in &prt.hosts {
                    let mut st = self.hosts[h].lock();
                    if st.status == HostStatus::Failed {
                        st.status = HostStatus::Active;
                    }
                }
            }
            _ => {}
        }
    }

    pub fn summary(&self) -> RunSummary {
        let mut s = RunSummary::default();
        for slot in &self.hosts {
            let st = slot.lock();
            if st.seen {
                s.hosts.insert(slot.name.clone(), st.stats.clone());
                if crate::interrupt::interrupted() && !matches!(st.status, HostStatus::Failed | HostStatus::Unreachable) {
                    s.unfinished.push(slot.name.clone());
                }
            }
        }
        s.interrupted = crate::interrupt::interrupted();
        s
    }
}

impl Task {
    /// A task the executor adds itself (fact gathering).
    pub fn synthetic(name: &str, module: &str, args: Value, origin: Origin) -> Task {
        Task {
            name: Some(name.to_string()),
            kind: TaskKind::Module { name: module.to_string(), args },
            origin,
            when: vec![],
            loop_: None,
            loop_control: Default::default(),
            register: None,
            notify: vec![],
            listen: vec![],
            become_: None,
            become_user: None,
            tags: vec!["always".into()],
            ignore_errors: false,
            changed_when: None,
            failed_when: None,
            check_mode: Some(false),
            diff: None,
            no_log: false,
            until: None,
            retries: None,
            delay: None,
            environment: vec![],
            run_once: false,
            delegate_to: None,
            delegate_facts: false,
            any_errors_fatal: false,
            ignore_unreachable: false,
            flag_templates: vec![],
            throttle: None,
            timeout: None,
            vars: Arc::new(Map::new()),
            role: None,
            needs_magic: false,
        }
    }
}
