//! A host's variables for one task: Ansible's precedence via the config crate's `VarLayers`,
//! magic variables, and lazy-style resolution of templated variable values.
use super::host::HostSlot;
use super::{Executor, PlayRt};
use crate::playbook::Task;
use mdxconf_config::vars::VarLayers;
use mdxconf_config::yaml::Origin;
use serde_json::{Map, Value};

/// What Ansible's `omit` renders to; such arguments are dropped before the module runs.
pub const OMIT: &str = "__omit_place_holder__mdxconf";

fn has_jinja(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{") || s.contains("{%"),
        Value::Array(a) => a.iter().any(has_jinja),
        Value::Object(m) => m.values().any(has_jinja),
        _ => false,
    }
}

impl Executor {
    /// The full variable context of host `h` for `task`.
    pub fn build_ctx(&self, prt: &PlayRt, task: Option<&Task>, h: usize) -> Map<String, Value> {
        self.build_ctx_for(prt, task, &self.hosts[h], Some(h))
    }

    /// The task's name as shown in headers and results: like Ansible, a templated name
    /// (`export {{ nfs_export_path }} to …`) is rendered with the host's variables, and stays as
    /// written where it cannot be (a variable that only exists later, e.g. a loop's `item`).
    pub fn shown_name(&self, task: &Task, ctx: &Map<String, Value>) -> String {
        let raw = task.display_name();
        let Some(name) = task.name.as_deref().filter(|_| task.has_templated_name()) else { return raw };
        match self.templater.render_str(name, &Value::Object(ctx.clone()), &task.origin) {
            Ok(n) => match &task.role {
                Some(r) => format!("{} : {n}", r.name),
                None => n,
            },
            Err(_) => raw,
        }
    }

    /// The variable context of a host given by its slot (`me`: its index, None for a stand-in slot
    /// such as a `delegate_to` address outside the inventory).
    pub fn build_ctx_for(&self, prt: &PlayRt, task: Option<&Task>, slot: &HostSlot, me: Option<usize>) -> Map<String, Value> {
        let role = task.and_then(|t| t.role.as_ref());
        // ansible.cfg's connection settings sit below everything, role defaults included
        let mut role_defaults = self.opts.ansible_cfg.as_ref().map(|c| c.host_defaults.clone()).unwrap_or_default();
        role_defaults.extend(prt.role_defaults.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut layers =
            VarLayers { role_defaults, play_vars: prt.play.vars.clone(), vars_files: prt.play.vars_files.clone(), role_vars: prt.role_vars.clone(), ..Default::default() };
        if let Some(r) = role {
            layers.role_defaults.extend(r.defaults.iter().map(|(k, v)| (k.clone(), v.clone())));
            layers.role_vars.extend(r.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            layers.extra.extend(r.params.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(t) = task {
            // block and task vars sit just above role vars
            layers.role_vars.extend(t.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        layers.extra.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        let group_names;
        {
            let st = slot.lock();
            layers.inventory = st.inventory_vars.clone();
            layers.vars_files.extend(st.vars_files_dyn.iter().map(|(k, v)| (k.clone(), v.clone())));
            layers.gathered = st.gathered.clone();
            layers.facts = st.facts.clone();
            layers.facts.extend(st.scope.iter().map(|(k, v)| (k.clone(), v.clone())));
            group_names = st.group_names.clone();
        }
        let mut m = layers.merged();
        let name = &slot.name;
        m.insert("inventory_hostname".into(), Value::String(name.clone()));
        m.insert("inventory_hostname_short".into(), Value::String(name.split('.').next().unwrap_or(name).to_string()));
        m.insert("group_names".into(), group_names);
        // The run's --check/--diff, as in Ansible: a task's `check_mode: false` does not change them
        // (roles use that to run a probe for real and still know the run is a check).
        m.insert("ansible_check_mode".into(), Value::Bool(self.opts.check));
        m.insert("ansible_diff_mode".into(), Value::Bool(self.opts.diff));
        let tags = if self.opts.tags.is_empty() { vec![Value::String("all".into())] } else { self.opts.tags.iter().cloned().map(Value::String).collect() };
        m.insert("ansible_run_tags".into(), Value::Array(tags));
        m.insert("ansible_skip_tags".into(), Value::Array(self.opts.skip_tags.iter().cloned().map(Value::String).collect()));
        m.insert("playbook_dir".into(), Value::String(self.playbook_dir.display().to_string()));
        m.insert("ansible_play_name".into(), Value::String(prt.play.name.clone()));
        m.insert("omit".into(), Value::String(OMIT.into()));
        if let Some(r) = role {
            m.insert("role_path".into(), Value::String(r.path.display().to_string()));
            m.insert("role_name".into(), Value::String(r.name.clone()));
        }
        if !m.contains_key("ansible_facts") {
            m.insert("ansible_facts".into(), Value::Object(Map::new()));
        }
        let needs_magic = prt.needs_magic || task.is_none_or(|t| t.needs_magic);
        if needs_magic {
            m.insert("groups".into(), self.groups_var.read().unwrap_or_else(|p| p.into_inner()).clone());
            m.insert("play_hosts".into(), prt.play_batch.clone());
            m.insert("ansible_play_hosts".into(), prt.play_hosts.clone());
            m.insert("ansible_play_hosts_all".into(), prt.play_hosts_all.clone());
            m.insert("ansible_play_batch".into(), prt.play_batch.clone());
            m.insert("hostvars".into(), self.hostvars(me, &m));
        }
        self.resolve_templated(&mut m);
        m
    }

    /// `hostvars`: every host's inventory variables and facts (this host: its full context).
    fn hostvars(&self, me: Option<usize>, mine: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for (i, slot) in self.hosts.iter().enumerate() {
            if Some(i) == me {
                let mut own = mine.clone();
                own.remove("hostvars");
                out.insert(slot.name.clone(), Value::Object(own));
                continue;
            }
            let st = slot.lock();
            let mut v = st.inventory_vars.clone();
            v.extend(st.gathered.iter().chain(st.facts.iter()).map(|(k, v)| (k.clone(), v.clone())));
            v.insert("inventory_hostname".into(), Value::String(slot.name.clone()));
            v.insert("group_names".into(), st.group_names.clone());
            out.insert(slot.name.clone(), Value::Object(v));
        }
        // Hosts add_host created in this batch (no slot yet): their inventory variables.
        let pending = self.hosts.pending();
        for name in pending {
            if !out.contains_key(&name) {
                let (mut v, gn) = self.unslotted_host_vars(&name);
                v.insert("inventory_hostname".into(), Value::String(name.clone()));
                v.insert("group_names".into(), gn);
                out.insert(name, Value::Object(v));
            }
        }
        Value::Object(out)
    }

    /// Variables whose values are templates (`x: "{{ y }}/sub"`) are rendered in the context, up to a
    /// few rounds for chains. A value that never renders (undefined reference) is removed so that a
    /// task using it fails with a clear undefined-variable error at its own line.
    fn resolve_templated(&self, m: &mut Map<String, Value>) {
        let mut pending: Vec<String> = m.iter().filter(|(k, v)| k.as_str() != "omit" && has_jinja(v)).map(|(k, _)| k.clone()).collect();
        if pending.is_empty() {
            return;
        }
        let origin = Origin::unknown("variables");
        let mut ok_once: Vec<String> = Vec::new();
        for _round in 0..4 {
            let ctx = minijinja::Value::from_serialize(&*m);
            let mut updates = Vec::new();
            let mut still = Vec::new();
            for k in &pending {
                let Some(v) = m.get(k) else { continue };
                match self.templater.render_value_in(v, &ctx, &origin) {
                    Ok(nv) => {
                        if !ok_once.contains(k) {
                            ok_once.push(k.clone());
                        }
                        if has_jinja(&nv) && &nv != v {
                            still.push(k.clone());
                        }
                        updates.push((k.clone(), nv));
                    }
                    Err(_) => still.push(k.clone()),
                }
            }
            let progressed = !updates.is_empty();
            for (k, v) in updates {
                m.insert(k, v);
            }
            pending = still;
            if pending.is_empty() || !progressed {
                break;
            }
        }
        for k in pending {
            if !ok_once.contains(&k) {
                m.remove(&k);
            }
        }
    }
}
