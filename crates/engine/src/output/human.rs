//! Ansible-style lines: `ok: [host]`, `changed: [host] => (item=x)`, `fatal: [host]: FAILED! => {...}`.
use super::{Event, Status};
use std::io::Write;

/// `TASK [name] *****` padded to 80 columns, preceded by a blank line.
pub fn header(title: &str) {
    let stars = 79usize.saturating_sub(title.len()).max(3);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n{title} {}", "*".repeat(stars));
}

pub fn event(ev: &Event, verbose: u8, show_diff: bool) {
    let mut out = std::io::stdout().lock();
    if ev.loop_summary && ev.status != Status::Failed {
        return; // items were printed one by one
    }
    if show_diff && !ev.loop_summary {
        for d in ev.diff {
            let _ = write!(out, "{}", unified(&d.path, &d.before, &d.after));
        }
    }
    let item = ev.item.as_ref().map(|i| format!(" => (item={i})")).unwrap_or_default();
    // Ansible's `[host -> delegate]`
    let host = match ev.delegated {
        Some(d) => format!("{} -> {d}", ev.host),
        None => ev.host.to_string(),
    };
    let data_json = || {
        let mut m = ev.data.cloned().unwrap_or_default();
        if !ev.msg.is_empty() {
            m.entry("msg").or_insert_with(|| serde_json::Value::String(ev.msg.to_string()));
        }
        serde_json::to_string_pretty(&m).unwrap_or_default()
    };
    match ev.status {
        Status::Failed => {
            let word = if ev.item.is_some() { "failed" } else { "fatal" };
            let item = ev.item.as_ref().map(|i| format!(" (item={i})")).unwrap_or_default();
            let _ = writeln!(out, "{word}: [{}]{item}: FAILED! => {}", host, compact(ev));
            if ev.ignored {
                let _ = writeln!(out, "...ignoring");
            }
        }
        Status::Unreachable => {
            let _ = writeln!(out, "fatal: [{}]: UNREACHABLE! => {}", host, compact(ev));
        }
        Status::Skipped => {
            let _ = writeln!(out, "skipping: [{}]{item}", host);
        }
        Status::Ok | Status::Changed => {
            let word = ev.status.word();
            if ev.module == "debug" {
                let _ = writeln!(out, "{word}: [{}]{item} => {}", host, debug_body(ev));
            } else if verbose > 0 {
                let _ = writeln!(out, "{word}: [{}]{item} => {}", host, data_json());
            } else {
                let _ = writeln!(out, "{word}: [{}]{item}", host);
            }
        }
    }
}

fn compact(ev: &Event) -> String {
    let mut m = serde_json::Map::new();
    m.insert("changed".into(), serde_json::Value::Bool(false));
    if let Some(d) = ev.data {
        for k in ["rc", "stdout", "stderr", "failed_when_result", "attempts"] {
            if let Some(v) = d.get(k) {
                if v.as_str() != Some("") {
                    m.insert(k.into(), v.clone());
                }
            }
        }
    }
    m.insert("msg".into(), serde_json::Value::String(ev.msg.to_string()));
    serde_json::to_string(&m).unwrap_or_default()
}

fn debug_body(ev: &Event) -> String {
    let mut m = serde_json::Map::new();
    if let Some(d) = ev.data {
        for (k, v) in d {
            if !matches!(k.as_str(), "changed" | "failed") {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::to_string_pretty(&m).unwrap_or_default()
}

/// A unified diff like `ansible-playbook --diff`.
pub fn unified(path: &str, before: &str, after: &str) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut s = diff.unified_diff().context_radius(3).header(&format!("before: {path}"), &format!("after: {path}")).to_string();
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
