//! `--format json`: `{"results": [{play, host, task, module, status, msg, diff, result?}...], "recap": {...}}`.
use super::{Event, Status};
use crate::modules::Diff;
use crate::summary::RunSummary;

#[derive(Debug, serde::Serialize)]
pub struct JsonResult {
    pub play: String,
    pub host: String,
    pub task: String,
    pub module: String,
    pub status: Status,
    pub msg: String,
    pub diff: Vec<Diff>,
    pub ignored: bool,
    /// `delegate_to`: the host the task ran on instead
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegated_to: Option<String>,
    /// Failed and unreachable results: the module's result (a command's rc, stdout, stderr, …), so a
    /// scheduled job's log says why without a rerun; `debug` results: what it printed (`msg` or the var)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Map<String, serde_json::Value>>,
}

impl JsonResult {
    pub fn from_event(ev: &Event) -> Self {
        JsonResult {
            play: ev.play.to_string(),
            host: ev.host.to_string(),
            task: ev.task.to_string(),
            module: ev.module.to_string(),
            status: ev.status,
            msg: ev.msg.to_string(),
            diff: ev.diff.to_vec(),
            ignored: ev.ignored,
            delegated_to: ev.delegated.map(str::to_string),
            result: (matches!(ev.status, Status::Failed | Status::Unreachable) || ev.module == "debug").then(|| ev.data.cloned().unwrap_or_default()),
        }
    }
}

pub fn print(results: Vec<JsonResult>, summary: &RunSummary) {
    let doc = serde_json::json!({ "results": results, "recap": summary.hosts });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}
