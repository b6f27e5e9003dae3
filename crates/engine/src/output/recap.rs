//! PLAY RECAP, aligned like Ansible's.
use crate::summary::RunSummary;
use std::io::Write;

pub fn print(summary: &RunSummary) {
    super::human::header("PLAY RECAP");
    let width = summary.hosts.keys().map(|h| h.len()).max().unwrap_or(0).max(26);
    let mut out = std::io::stdout().lock();
    for (h, s) in &summary.hosts {
        let _ = writeln!(
            out,
            "{h:<width$} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={}",
            s.ok, s.changed, s.unreachable, s.failed, s.skipped, s.rescued, s.ignored
        );
    }
    let _ = writeln!(out);
}
