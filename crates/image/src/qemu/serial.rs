//! The guest's serial console goes to a log file (chardev file); we read it to report progress and
//! to put its tail into error messages.
use std::path::Path;
use std::time::{Duration, Instant};

/// Last `n` lines of a log file (lossy UTF-8, ANSI escapes stripped), for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = strip_ansi(&String::from_utf8_lossy(&bytes));
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether the log contains `needle` yet.
pub fn contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path).map(|b| String::from_utf8_lossy(&b).contains(needle)).unwrap_or(false)
}

/// Poll the log until `needle` appears or `timeout` passes.
pub async fn wait_for(path: &Path, needle: &str, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if contains(path, needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    contains(path, needle)
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_escapes() {
        assert_eq!(super::strip_ansi("\u{1b}[2Jhello\r\n\u{1b}[0mworld"), "hello\nworld");
    }
}
