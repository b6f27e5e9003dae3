//! What one run of a task on one host (one loop item) gave: a leaf the control modules, inventory
//! operations and the task runner share.
use crate::modules::Diff;
use crate::modules::ModuleResult;
use crate::output::Status;
use serde_json::{Map, Value};

/// The outcome of one module run (one loop item).
pub struct ItemOutcome {
    pub status: Status,
    pub msg: String,
    pub diff: Vec<Diff>,
    /// The registered value
    pub data: Map<String, Value>,
    /// set_fact / include_vars results to store on the host
    pub set_facts: Map<String, Value>,
    /// `delegate_to`: the host the task ran on, when not the task's own host
    pub delegated: Option<String>,
}

impl ItemOutcome {
    pub fn failed(msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let mut data = Map::new();
        data.insert("failed".into(), Value::Bool(true));
        data.insert("changed".into(), Value::Bool(false));
        data.insert("msg".into(), Value::String(msg.clone()));
        ItemOutcome { status: Status::Failed, msg, diff: vec![], data, set_facts: Map::new(), delegated: None }
    }
    pub fn skipped() -> Self {
        let mut data = Map::new();
        data.insert("changed".into(), Value::Bool(false));
        data.insert("skipped".into(), Value::Bool(true));
        data.insert("skip_reason".into(), Value::String("Conditional result was False".into()));
        ItemOutcome { status: Status::Skipped, msg: String::new(), diff: vec![], data, set_facts: Map::new(), delegated: None }
    }
    pub fn from_module(r: ModuleResult) -> Self {
        let status = if r.failed {
            Status::Failed
        } else if r.skipped {
            Status::Skipped
        } else if r.changed {
            Status::Changed
        } else {
            Status::Ok
        };
        let mut data = r.data;
        data.insert("changed".into(), Value::Bool(r.changed));
        data.insert("failed".into(), Value::Bool(r.failed));
        if r.skipped {
            data.insert("skipped".into(), Value::Bool(true));
        }
        if !r.msg.is_empty() {
            data.insert("msg".into(), Value::String(r.msg.clone()));
        }
        ItemOutcome { status, msg: r.msg, diff: r.diff, data, set_facts: Map::new(), delegated: None }
    }
    pub fn ok(changed: bool, msg: impl Into<String>, data: Map<String, Value>) -> Self {
        let msg = msg.into();
        let mut data = data;
        data.insert("changed".into(), Value::Bool(changed));
        data.insert("failed".into(), Value::Bool(false));
        ItemOutcome { status: if changed { Status::Changed } else { Status::Ok }, msg, diff: vec![], data, set_facts: Map::new(), delegated: None }
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "yes" | "true" | "1" | "on" | "y"),
        Value::Number(n) => n.as_f64().unwrap_or(0.0) != 0.0,
        _ => false,
    }
}
