//! Small helpers shared by modules: running a script on the host, output handling, text utilities.
use crate::context::ModuleCtx;
use crate::result::{Diff, ModuleResult};
use anyhow::{anyhow, bail, Result};
use mdxconf_transport::ExecOutput;
use serde_json::{Map, Value};
use std::collections::HashMap;

pub use crate::spec::parse_bool;
/// The one shell quoting function (the transport's).
pub use mdxconf_transport::sh_quote;

/// Run a script on the host, wrapped for `become` when escalation is on.
pub async fn sh(ctx: &ModuleCtx<'_>, script: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput> {
    // no sudo when the connection already is the become user (chroot, root logins)
    let cmd = mdxconf_transport::become_command(ctx.conn.login_user(), script, ctx.become_user);
    Ok(ctx.conn.exec(&cmd, stdin).await?)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `key=value` lines (first `=` splits; later duplicates win).
pub fn kv(out: &str) -> HashMap<String, String> {
    out.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn failed(msg: impl Into<String>) -> ModuleResult {
    ModuleResult { failed: true, msg: msg.into(), ..Default::default() }
}

/// A failure carrying the command's output, as Ansible reports it.
pub fn failed_exec(msg: impl Into<String>, out: &ExecOutput) -> ModuleResult {
    let mut r = failed(msg);
    put_output(&mut r.data, out);
    let err = text(&out.stderr);
    if !err.trim().is_empty() {
        r.msg = format!("{}: {}", r.msg, err.trim());
    } else if !out.stdout.is_empty() {
        let o = text(&out.stdout);
        let tail: Vec<&str> = o.trim().lines().rev().take(5).collect();
        r.msg = format!("{}: {}", r.msg, tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    r
}

/// rc/stdout/stderr/stdout_lines/stderr_lines like Ansible's command results (trailing newlines stripped).
pub fn put_output(data: &mut Map<String, Value>, out: &ExecOutput) {
    let so = text(&out.stdout);
    let se = text(&out.stderr);
    let so = so.trim_end_matches(['\n', '\r']);
    let se = se.trim_end_matches(['\n', '\r']);
    data.insert("rc".into(), out.rc.into());
    data.insert("stdout".into(), so.into());
    data.insert("stderr".into(), se.into());
    data.insert("stdout_lines".into(), so.lines().map(Value::from).collect::<Vec<_>>().into());
    data.insert("stderr_lines".into(), se.lines().map(Value::from).collect::<Vec<_>>().into());
}

/// A text diff entry (state changes of packages, users, services are shown as `key: value` lines).
pub fn state_diff(path: impl Into<String>, before: impl Into<String>, after: impl Into<String>) -> Diff {
    Diff { path: path.into(), before: before.into(), after: after.into() }
}

/// Python `re` replacement templates (`\1`, `\g<1>`, `\g<name>`) to the regex crate's (`${1}`, `${name}`).
pub fn py_repl(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                        num.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

pub fn regex(module: &str, arg: &str, pat: &str) -> Result<regex::Regex> {
    regex::Regex::new(pat).map_err(|e| anyhow!("{module}: argument '{arg}' is not a valid regular expression: {e}"))
}

/// Split a command line like Python's shlex.split (quotes and backslashes; no expansions).
pub fn shlex_split(s: &str) -> Result<Vec<String>> {
    let mut words = vec![];
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => bail!("unterminated single quote in: {s}"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => bail!("unterminated double quote in: {s}"),
                        },
                        Some(c) => cur.push(c),
                        None => bail!("unterminated double quote in: {s}"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c)
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c)
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Standard base64 (padding optional, whitespace ignored); small enough not to need a crate.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Text for a diff side; binary or huge content is summarized.
pub fn diff_text(b: &[u8]) -> String {
    if b.len() > 1 << 20 {
        return format!("(content of {} bytes not shown)\n", b.len());
    }
    match std::str::from_utf8(b) {
        Ok(s) if !s.contains('\0') => s.to_string(),
        _ => format!("(binary content, {} bytes)\n", b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn quoting_and_splitting() {
        assert_eq!(sh_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(sh_quote("/etc/x.conf"), "/etc/x.conf");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(shlex_split("echo 'a b' \"c \\\"d\" e\\ f").unwrap(), vec!["echo", "a b", "c \"d", "e f"]);
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(py_repl(r"x=\1 \g<name> $"), "x=${1} ${name} $$");
    }
}
