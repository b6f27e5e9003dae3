//! Which connection a task uses: the host's own persistent one, or with `delegate_to` the
//! delegate's (its own ansible_host/port/user from the inventory, opened once and shared by every
//! host delegating to it), while the task keeps the original host's variables.
use super::connect;
use super::host::HostSlot;
use super::{Executor, PlayRt};
use crate::playbook::Task;
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Where a task runs for one host.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// The host itself (no delegation, or delegated to itself)
    Own,
    /// The controller (`localhost`/`127.0.0.1` that is not an inventory host)
    Local,
    /// Another inventory host (its slot index)
    Host(usize),
    /// An address or name without an inventory slot
    Adhoc(String),
}

impl Executor {
    /// Render `delegate_to` for host `h` (with loop items in `ctx`) and find what it names.
    pub fn delegate_target(&self, task: &Task, h: usize, ctx: &Map<String, Value>) -> Result<Target, String> {
        let Some(d) = &task.delegate_to else { return Ok(Target::Own) };
        let d = self.templater.render_str(d, &Value::Object(ctx.clone()), &task.origin).map_err(|e| e.to_string())?;
        let d = d.trim();
        if d.is_empty() {
            return Err("delegate_to rendered to an empty host name".into());
        }
        Ok(match self.hosts.find(d) {
            Some(i) if i == h => Target::Own,
            Some(i) => Target::Host(i),
            None if matches!(d, "localhost" | "127.0.0.1" | "::1") && !self.inv().hosts.contains_key(d) => Target::Local,
            None => Target::Adhoc(d.to_string()),
        })
    }

    /// The host's persistent connection (opened on first use), or the delegate's.
    pub async fn connection(&self, prt: &PlayRt<'_>, task: &Task, h: usize, ctx: &Map<String, Value>) -> Result<Arc<dyn Connection>, String> {
        let target = self.delegate_target(task, h, ctx)?;
        self.connect_target(prt, task, h, &target, ctx).await
    }

    pub async fn connect_target(&self, prt: &PlayRt<'_>, task: &Task, h: usize, target: &Target, ctx: &Map<String, Value>) -> Result<Arc<dyn Connection>, String> {
        match target {
            Target::Own => self.slot_connection(prt, h, || ctx.clone()).await,
            Target::Local => Ok(mdxconf_transport::local("localhost")),
            // The delegate's connection variables are its own (with play and task vars on top, as
            // Ansible computes them for the delegated host).
            Target::Host(d) => self.slot_connection(prt, *d, || self.build_ctx(prt, Some(task), *d)).await,
            Target::Adhoc(name) => self.adhoc_connection(prt, task, name).await,
        }
    }

    /// Slot `i`'s connection; opened once even when several hosts delegate to it at the same time.
    async fn slot_connection(&self, prt: &PlayRt<'_>, i: usize, vars: impl FnOnce() -> Map<String, Value>) -> Result<Arc<dyn Connection>, String> {
        let slot = &self.hosts[i];
        if let Some(c) = slot.lock().conn.clone() {
            return Ok(c);
        }
        let _opening = slot.connecting.lock().await;
        if let Some(c) = slot.lock().conn.clone() {
            return Ok(c);
        }
        let vars = vars();
        match connect::open(
            &slot.name,
            &vars,
            prt.play.connection.as_deref(),
            prt.play.remote_user.as_deref().or(self.opts.ansible_cfg.as_ref().and_then(|c| c.remote_user.as_deref())),
            self.opts.accept_new_host_keys,
        )
        .await
        {
            Ok(c) => {
                slot.lock().conn = Some(c.clone());
                Ok(c)
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// A delegate outside the slots: an address, or a host add_host created in this batch.
    async fn adhoc_connection(&self, prt: &PlayRt<'_>, task: &Task, name: &str) -> Result<Arc<dyn Connection>, String> {
        let mut conns = self.adhoc_conns.lock().await;
        if let Some(c) = conns.get(name) {
            return Ok(c.clone());
        }
        let (inv_vars, gn) = self.unslotted_host_vars(name);
        let stand_in = HostSlot::new(name.to_string(), inv_vars, gn);
        let vars = self.build_ctx_for(prt, Some(task), &stand_in, None);
        let c = connect::open(
            name,
            &vars,
            prt.play.connection.as_deref(),
            prt.play.remote_user.as_deref().or(self.opts.ansible_cfg.as_ref().and_then(|c| c.remote_user.as_deref())),
            self.opts.accept_new_host_keys,
        )
        .await
        .map_err(|e| e.to_string())?;
        conns.insert(name.to_string(), c.clone());
        Ok(c)
    }

    /// The delegate's name for output (None: the task ran on its own host).
    pub fn target_name(&self, t: &Target) -> Option<String> {
        match t {
            Target::Own => None,
            Target::Local => Some("localhost".into()),
            Target::Host(d) => Some(self.hosts[*d].name.clone()),
            Target::Adhoc(n) => Some(n.clone()),
        }
    }

    /// `delegate_facts: true`: facts the task set belong to the delegated inventory host.
    pub fn delegate_facts(&self, target: &Target, facts: &mut Map<String, Value>) {
        if facts.is_empty() {
            return;
        }
        if let Target::Host(d) = target {
            let mut st = self.hosts[*d].lock();
            for (k, v) in std::mem::take(facts) {
                st.facts.insert(k, v);
            }
        }
    }
}
