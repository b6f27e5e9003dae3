//! Shared helpers for modules: argument specs and typed access, shell quoting, running scripts on the host.
use super::{Diff, ModuleCtx, ModuleResult};
use anyhow::{anyhow, bail, Result};
use mdxconf_transport::ExecOutput;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Accepted arguments of a module. Each entry is `canonical|alias|alias`.
pub struct Spec {
    pub args: &'static [&'static str],
    /// Canonical names; each must be present (under any alias).
    pub required: &'static [&'static str],
}

impl Spec {
    fn entry(&self, key: &str) -> Option<&'static str> {
        self.args.iter().copied().find(|e| e.split('|').any(|a| a == key))
    }
    fn aliases(&self, canonical: &str) -> Option<&'static str> {
        self.args.iter().copied().find(|e| e.split('|').next() == Some(canonical))
    }
    /// Unknown names and missing required arguments; values are checked when the module runs.
    pub fn check(&self, module: &str, args: &Map<String, Value>) -> Result<(), String> {
        for k in args.keys() {
            if self.entry(k).is_none() {
                let mut known: Vec<&str> = self.args.iter().flat_map(|e| e.split('|')).collect();
                known.sort();
                return Err(format!("{module}: unsupported argument '{k}' (supported: {})", known.join(", ")));
            }
        }
        for r in self.required {
            let e = self.aliases(r).unwrap_or(r);
            if !e.split('|').any(|a| args.get(a).is_some_and(|v| !v.is_null())) {
                return Err(format!("{module}: missing required argument '{r}'"));
            }
        }
        Ok(())
    }
}

/// Typed access to a module's arguments through its spec (aliases resolved).
pub struct Args<'a> {
    pub module: &'static str,
    spec: &'static Spec,
    map: &'a Map<String, Value>,
}

pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().and_then(|i| match i {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "t" | "on" | "1" => Some(true),
            "no" | "n" | "false" | "f" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

impl<'a> Args<'a> {
    pub fn new(module: &'static str, spec: &'static Spec, map: &'a Map<String, Value>) -> Result<Self> {
        spec.check(module, map).map_err(|e| anyhow!(e))?;
        Ok(Args { module, spec, map })
    }
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        // a name outside the spec can never have passed `check`, so it is simply absent
        self.spec.aliases(key)?.split('|').find_map(|a| self.map.get(a)).filter(|v| !v.is_null())
    }
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True".into() } else { "False".into() })),
            Some(v) => bail!("{}: argument '{key}' must be a string, got {v}", self.module),
        }
    }
    pub fn req(&self, key: &str) -> Result<String> {
        self.str(key)?.ok_or_else(|| anyhow!("{}: missing required argument '{key}'", self.module))
    }
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        self.opt_bool(key).map(|b| b.unwrap_or(default))
    }
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_bool(v).map(Some).ok_or_else(|| anyhow!("{}: argument '{key}' must be a boolean, got {v}", self.module)),
        }
    }
    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| anyhow!("{}: argument '{key}' must be an integer", self.module)),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| anyhow!("{}: argument '{key}' must be an integer, got '{s}'", self.module)),
            Some(v) => bail!("{}: argument '{key}' must be an integer, got {v}", self.module),
        }
    }
    /// A list given as a YAML list or a comma-separated string (Ansible's `type: list`).
    pub fn list(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    v => bail!("{}: argument '{key}' must be a list of strings, got {v}", self.module),
                })
                .collect(),
            Some(Value::String(s)) => Ok(s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()),
            Some(Value::Number(n)) => Ok(vec![n.to_string()]),
            Some(v) => bail!("{}: argument '{key}' must be a list, got {v}", self.module),
        }
    }
    /// One of `choices` (after Ansible's synonyms were mapped by the caller), or `default`.
    pub fn choice(&self, key: &str, default: &str, choices: &[&str]) -> Result<String> {
        let v = self.str(key)?.unwrap_or_else(|| default.to_string());
        if choices.contains(&v.as_str()) {
            Ok(v)
        } else {
            bail!("{}: argument '{key}' must be one of {}, got '{v}'", self.module, choices.join(", "))
        }
    }
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }
}

/// Quote for POSIX sh (single quotes; embedded quotes closed and escaped).
pub fn q(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn quoting_and_splitting() {
        assert_eq!(q("a b'c"), "'a b'\\''c'");
        assert_eq!(q("/etc/x.conf"), "/etc/x.conf");
        assert_eq!(q(""), "''");
        assert_eq!(shlex_split("echo 'a b' \"c \\\"d\" e\\ f").unwrap(), vec!["echo", "a b", "c \"d", "e f"]);
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(py_repl(r"x=\1 \g<name> $"), "x=${1} ${name} $$");
    }
}
