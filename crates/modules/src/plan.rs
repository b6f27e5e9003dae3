//! What a module's `plan` returns: the predicted result and the steps; and what running a step gave.
use crate::ops::write::WriteRequest;
pub use crate::result::{Diff, ModuleResult};
use serde_json::Value;
use std::path::PathBuf;

/// One change to make. Steps run in order; the first that fails ends the task (nothing after it runs).
#[derive(Debug, Clone)]
pub enum Step {
    /// A script run on the host (with `become` when escalation is on); a non-zero exit fails the task,
    /// the message starting with `what`.
    Run { what: String, script: String, stdin: Option<Vec<u8>> },
    /// A whole file written atomically on the host (the one remote atomic writer: temp file beside the
    /// destination, attributes, `validate` on the temp file, optional backup, rename).
    Write(Box<WriteRequest>),
    /// A file written on the controller (fetch), atomically.
    LocalWrite { path: PathBuf, content: Vec<u8> },
    /// Fail with this message when applied. A plan can predict a change in check mode that a real run
    /// cannot make (a destination directory an earlier task would have created).
    Fail(String),
}

impl Step {
    pub fn run(what: impl Into<String>, script: impl Into<String>) -> Step {
        Step::Run { what: what.into(), script: script.into(), stdin: None }
    }
    pub fn run_stdin(what: impl Into<String>, script: impl Into<String>, stdin: Vec<u8>) -> Step {
        Step::Run { what: what.into(), script: script.into(), stdin: Some(stdin) }
    }
    /// A plain description for plan tests and `--diff`-less debugging: kind, target and script.
    pub fn describe(&self) -> Value {
        match self {
            Step::Run { what, script, stdin } => serde_json::json!({"run": what, "script": script, "stdin": stdin.as_ref().map(|s| String::from_utf8_lossy(s).into_owned())}),
            Step::Write(w) => serde_json::json!({"write": w.info.path, "content": String::from_utf8_lossy(&w.content), "script": w.script_for_description()}),
            Step::LocalWrite { path, content } => serde_json::json!({"local_write": path.display().to_string(), "content": String::from_utf8_lossy(content)}),
            Step::Fail(m) => serde_json::json!({"fail": m}),
        }
    }
}

/// What `plan` decided: the result a run will report (changed, diff, data) and the steps to get there.
/// A plan without steps is a converged task.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub result: ModuleResult,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Nothing to do; `result` is the answer (facts, stat, a converged resource).
    pub fn done(result: ModuleResult) -> Plan {
        Plan { result, steps: vec![] }
    }
    /// A change: `changed` is set from whether there are steps.
    pub fn change(mut result: ModuleResult, steps: Vec<Step>) -> Plan {
        result.changed = result.changed || !steps.is_empty();
        Plan { result, steps }
    }
    pub fn failed(msg: impl Into<String>) -> Plan {
        Plan::done(ModuleResult { failed: true, msg: msg.into(), ..Default::default() })
    }
}

/// What running one step gave.
#[derive(Debug, Clone)]
pub enum Outcome {
    Ran { what: String, out: mdxconf_transport::ExecOutput },
    Written { backup: Option<String> },
    ValidateFailed { rc: i32, stderr: String },
    LocalWritten,
}
