//! What the user sees: Ansible-like human lines, or one JSON document (`--format json`).
pub mod human;
pub mod json;
pub mod recap;

use crate::modules::Diff;
use crate::summary::RunSummary;
use serde_json::{Map, Value};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Skipped => "skipping",
            Status::Unreachable => "unreachable",
        }
    }
}

/// One host's result for one task (or one loop item when `item` is set).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub play: &'a str,
    pub task: &'a str,
    pub module: &'a str,
    pub host: &'a str,
    pub status: Status,
    pub msg: &'a str,
    pub item: Option<String>,
    pub diff: &'a [Diff],
    /// The registered result (shown with -v, for debug, and on failure)
    pub data: Option<&'a Map<String, Value>>,
    pub ignored: bool,
    /// A loop's summary event (items were already printed)
    pub loop_summary: bool,
    /// `delegate_to`: where the task ran instead (shown as `[host -> delegate]`)
    pub delegated: Option<&'a str>,
}

pub struct Output {
    pub format: Format,
    pub verbose: u8,
    pub show_diff: bool,
    pub quiet: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Last TASK header printed (free strategy prints a header whenever the task changes)
    last_header: Option<String>,
    results: Vec<json::JsonResult>,
}

impl Output {
    pub fn new(format: Format, verbose: u8, show_diff: bool, quiet: bool) -> Self {
        Output { format, verbose, show_diff, quiet, state: Mutex::new(State::default()) }
    }
    fn human(&self) -> bool {
        self.format == Format::Human && !self.quiet
    }
    pub fn play_start(&self, name: &str) {
        self.state.lock().unwrap().last_header = None;
        if self.human() {
            human::header(&format!("PLAY [{name}]"));
        }
    }
    pub fn task_start(&self, name: &str) {
        let mut st = self.state.lock().unwrap();
        if st.last_header.as_deref() != Some(name) {
            st.last_header = Some(name.to_string());
            if self.human() {
                human::header(&format!("TASK [{name}]"));
            }
        }
    }
    pub fn handler_start(&self, name: &str) {
        self.task_start(&format!("RUNNING HANDLER [{name}]"));
    }
    /// Print the task header (if the free strategy moved on) and the host's result.
    pub fn event(&self, header: Option<&str>, ev: &Event) {
        if let Some(h) = header {
            self.task_start(h);
        }
        if self.human() {
            let _g = self.state.lock().unwrap();
            human::event(ev, self.verbose, self.show_diff);
        }
        if self.format == Format::Json && !ev.loop_summary_is_item() {
            self.state.lock().unwrap().results.push(json::JsonResult::from_event(ev));
        }
    }
    /// A batch was stopped (any_errors_fatal, max_fail_percentage): Ansible's banner.
    pub fn no_more_hosts(&self) {
        self.state.lock().unwrap().last_header = None;
        if self.human() {
            human::header("NO MORE HOSTS LEFT");
        }
    }
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("[WARNING]: {msg}");
        }
    }
    /// PLAY RECAP (human) or the whole JSON document.
    pub fn finish(&self, summary: &RunSummary) {
        if self.quiet {
            return;
        }
        match self.format {
            Format::Human => recap::print(summary),
            Format::Json => {
                let results = std::mem::take(&mut self.state.lock().unwrap().results);
                json::print(results, summary);
            }
        }
    }
}

impl Event<'_> {
    /// JSON keeps one entry per host and task: loop items are folded into the summary.
    fn loop_summary_is_item(&self) -> bool {
        self.item.is_some()
    }
}
