//! Ansible's INI inventory format, read the way ansible's `ini` inventory plugin reads it.
use super::pyliteral::literal_eval;
use super::range::{expand_host_range, split_port};
use super::Inventory;
use crate::error::ConfigError;
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

#[derive(PartialEq, Clone, Copy)]
enum State {
    Hosts,
    Children,
    Vars,
}

/// A group named before it was defined (resolved at the end, as Ansible does).
struct Pending {
    line: usize,
    col: usize,
    state: State,
    parents: Vec<String>,
}

pub fn parse(inv: &mut Inventory, text: &str, file: &Path) -> Result<(), ConfigError> {
    static SECTION: OnceLock<Regex> = OnceLock::new();
    static GROUPNAME: OnceLock<Regex> = OnceLock::new();
    let section = SECTION.get_or_init(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").unwrap());
    let groupname_re = GROUPNAME.get_or_init(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").unwrap());

    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut pending_order: Vec<String> = Vec::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;

    for (idx, raw_line) in text.lines().enumerate() {
        let lineno = idx + 1;
        let indent = raw_line.len() - raw_line.trim_start().len();
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let err = |col: usize, msg: String| ConfigError::at(file, lineno, indent + col, msg);
        if let Some(m) = line.starts_with('[').then(|| section.captures(line)).flatten() {
            group = m[1].to_string();
            state = match m.get(2).map(|t| t.as_str()) {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    let col = m.get(2).unwrap().start() + 1;
                    return Err(err(col, format!("section [{group}:{other}] has unknown type: {other} (expected hosts, children or vars)")));
                }
            };
            if !inv.groups.contains_key(&group) {
                if state == State::Vars && !pending.contains_key(&group) {
                    pending_order.push(group.clone());
                    pending.insert(group.clone(), Pending { line: lineno, col: indent + 1, state, parents: vec![] });
                }
                inv.ensure_group(&group);
            }
            if state != State::Vars {
                if let Some(p) = pending.get(&group) {
                    match p.state {
                        State::Children => add_pending_children(inv, &group, &mut pending),
                        _ => {
                            pending.remove(&group);
                        }
                    }
                }
            }
            continue;
        } else if line.starts_with('[') && line.ends_with(']') {
            return Err(err(1, format!("invalid section entry '{line}': a section is [name] or [name:hosts|children|vars], without spaces")));
        }
        match state {
            State::Hosts => {
                let tokens = shlex_split(line).map_err(|(col, m)| err(col, m))?;
                let Some((first, _)) = tokens.first() else { continue };
                let (pattern, port) = split_port(first).map_err(|m| err(1, m))?;
                if pattern.trim() == "---" {
                    return Err(err(1, "invalid host pattern '---': this looks like a YAML file; name it .yml".into()));
                }
                let hostnames = expand_host_range(&pattern).map_err(|m| err(1, m))?;
                let mut vars = serde_json::Map::new();
                for (tok, col) in &tokens[1..] {
                    let Some((k, v)) = tok.split_once('=') else {
                        return Err(err(*col, format!("expected key=value host variable assignment, got: {tok}")));
                    };
                    if k.is_empty() {
                        return Err(err(*col, format!("empty variable name in '{tok}'")));
                    }
                    vars.insert(k.to_string(), parse_value(v));
                }
                for h in hostnames {
                    inv.add_host_to_group(&h, &group);
                    let host = inv.ensure_host(&h);
                    for (k, v) in &vars {
                        host.vars.insert(k.clone(), v.clone());
                    }
                    if let Some(p) = port {
                        host.vars.insert("ansible_port".into(), Value::Number(p.into()));
                    }
                }
            }
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(1, format!("expected key=value in [{group}:vars], got: {line}")));
                };
                let k = k.trim();
                if k.is_empty() || k.contains(char::is_whitespace) {
                    return Err(err(1, format!("invalid variable name '{k}' in [{group}:vars]")));
                }
                inv.ensure_group(&group).vars.insert(k.to_string(), parse_value(v.trim()));
            }
            State::Children => {
                let Some(m) = groupname_re.captures(line) else {
                    return Err(err(1, format!("expected a group name in [{group}:children], got: {line}")));
                };
                let child = m[1].to_string();
                if !inv.groups.contains_key(&child) {
                    match pending.get_mut(&child) {
                        Some(p) => p.parents.push(group.clone()),
                        None => {
                            pending_order.push(child.clone());
                            pending.insert(child.clone(), Pending { line: lineno, col: indent + 1, state, parents: vec![group.clone()] });
                        }
                    }
                } else {
                    inv.add_child(&group, &child);
                }
            }
        }
    }
    for name in pending_order {
        if let Some(p) = pending.get(&name) {
            let msg = match p.state {
                State::Vars => format!("section [{name}:vars] is for a group that is never defined: {name}"),
                _ => format!("section [{}:children] includes undefined group: {name} (define it with a [{name}] section)", p.parents.last().map(String::as_str).unwrap_or("?")),
            };
            return Err(ConfigError::at(file, p.line, p.col, msg));
        }
    }
    Ok(())
}

fn add_pending_children(inv: &mut Inventory, group: &str, pending: &mut HashMap<String, Pending>) {
    let Some(p) = pending.remove(group) else { return };
    for parent in p.parents {
        inv.add_child(&parent, group);
        if pending.get(&parent).is_some_and(|pp| pp.state == State::Children) {
            add_pending_children(inv, &parent, pending);
        }
    }
}

/// Ansible's `_parse_value`: a Python literal if it is one, else the text as is.
pub fn parse_value(v: &str) -> Value {
    literal_eval(v).unwrap_or_else(|| Value::String(v.to_string()))
}

/// Python's `shlex.split(line, comments=True)` (POSIX mode), with each token's 1-based column.
fn shlex_split(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        let mut tok = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let (pos, c) = chars[i];
            if c.is_whitespace() {
                break;
            }
            match c {
                '#' => {
                    // a comment ends the token and the line
                    tokens.push((tok, start + 1));
                    return Ok(tokens);
                }
                '\\' => {
                    i += 1;
                    if let Some((_, n)) = chars.get(i) {
                        tok.push(*n);
                    }
                }
                '\'' | '"' => {
                    quoted = true;
                    let q = c;
                    i += 1;
                    loop {
                        let Some(&(_, n)) = chars.get(i) else {
                            return Err((pos + 1, "no closing quotation".to_string()));
                        };
                        if n == q {
                            break;
                        }
                        if q == '"' && n == '\\' && matches!(chars.get(i + 1), Some((_, '"' | '\\'))) {
                            i += 1;
                            tok.push(chars[i].1);
                        } else {
                            tok.push(n);
                        }
                        i += 1;
                    }
                }
                _ => tok.push(c),
            }
            i += 1;
        }
        if !tok.is_empty() || quoted {
            tokens.push((tok, start + 1));
        }
    }
    Ok(tokens)
}
