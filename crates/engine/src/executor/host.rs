//! Per-host state for a run: inventory variables, facts (set_fact/register/setup), the persistent
//! connection, notified handlers and recap counters. Locked briefly, never across an await.
use crate::summary::HostStats;
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStatus {
    Active,
    /// A task failed: out of the play (and the run), unless a block's rescue picks it up.
    Failed,
    Unreachable,
    /// `meta: end_host` / `end_play`: done with this play, not an error.
    Ended,
}

pub struct HostState {
    pub inventory_vars: Map<String, Value>,
    pub group_names: Value,
    /// set_fact, register and include_vars results (Ansible's precedence 19, above play vars)
    pub facts: Map<String, Value>,
    /// Facts modules returned (setup, package_facts, ...): precedence 12, below play vars
    pub gathered: Map<String, Value>,
    /// Variables scoped to an include being run (loop items of `include_tasks`)
    pub scope: Map<String, Value>,
    /// vars_files with templated names, loaded for the current play
    pub vars_files_dyn: Map<String, Value>,
    pub conn: Option<Arc<dyn Connection>>,
    pub status: HostStatus,
    pub notified: Vec<String>,
    pub stats: HostStats,
    /// Whether this host took part in any play (recap lists only those)
    pub seen: bool,
    /// Blocks with a `rescue` this host is inside: a failure there is not final (any_errors_fatal,
    /// max_fail_percentage wait for the rescue)
    pub rescue_depth: u32,
}

pub struct HostSlot {
    pub name: String,
    state: Mutex<HostState>,
    /// Held while opening the connection, so hosts delegating to this one concurrently share one.
    pub connecting: tokio::sync::Mutex<()>,
}

impl HostSlot {
    pub fn new(name: String, inventory_vars: Map<String, Value>, group_names: Value) -> Self {
        HostSlot {
            name,
            state: Mutex::new(HostState {
                inventory_vars,
                group_names,
                facts: Map::new(),
                gathered: Map::new(),
                scope: Map::new(),
                vars_files_dyn: Map::new(),
                conn: None,
                status: HostStatus::Active,
                notified: Vec::new(),
                stats: HostStats::default(),
                seen: false,
                rescue_depth: 0,
            }),
            connecting: tokio::sync::Mutex::new(()),
        }
    }
    pub fn lock(&self) -> MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn status(&self) -> HostStatus {
        self.lock().status
    }
    pub fn is_active(&self) -> bool {
        self.status() == HostStatus::Active
    }
}
