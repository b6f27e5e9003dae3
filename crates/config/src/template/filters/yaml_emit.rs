//! YAML text as PyYAML's `yaml.dump` writes it for Ansible's to_yaml / to_nice_yaml:
//! keys sorted, sequences inside mappings not indented, `-   ` items at indent 4, scalars quoted
//! when they would read back as another type. Differences: long lines are not folded, and
//! multi-line strings are double-quoted with `\n` escapes.
use crate::yaml::resolve::{pyyaml_bool, pyyaml_float};
use serde_json::{Map, Value};

/// `flow_leaves`: PyYAML's default_flow_style=None (collections of scalars inline), as to_yaml.
pub fn python_yaml(v: &Value, indent: usize, flow_leaves: bool) -> String {
    let mut out = String::new();
    let e = Emitter { indent: indent.max(2), flow_leaves };
    let block = !e.inline(v);
    match v {
        Value::Object(m) if block => e.map(m, 0, &mut out),
        Value::Array(a) if block => e.seq(a, 0, &mut out),
        Value::Object(_) | Value::Array(_) => {
            out.push_str(&flow(v));
            out.push('\n');
        }
        scalar => {
            out.push_str(&scalar_text(scalar, false));
            out.push('\n');
        }
    }
    out
}

struct Emitter {
    indent: usize,
    flow_leaves: bool,
}

fn all_scalars(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(|x| !matches!(x, Value::Object(_) | Value::Array(_))),
        Value::Array(a) => a.iter().all(|x| !matches!(x, Value::Object(_) | Value::Array(_))),
        _ => true,
    }
}

impl Emitter {
    /// Is this collection written inline after its key / dash?
    fn inline(&self, v: &Value) -> bool {
        match v {
            Value::Object(m) => m.is_empty() || (self.flow_leaves && all_scalars(v)),
            Value::Array(a) => a.is_empty() || (self.flow_leaves && all_scalars(v)),
            _ => true,
        }
    }

    fn map(&self, m: &Map<String, Value>, level: usize, out: &mut String) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for (i, k) in keys.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(level));
            }
            out.push_str(&scalar_text(&Value::String((*k).clone()), false));
            out.push(':');
            let v = &m[*k];
            if self.inline(v) {
                out.push(' ');
                out.push_str(&inline_text(v));
                out.push('\n');
            } else {
                out.push('\n');
                match v {
                    Value::Object(child) => {
                        out.push_str(&" ".repeat(level + self.indent));
                        self.map(child, level + self.indent, out);
                    }
                    // PyYAML does not indent a sequence inside a mapping
                    Value::Array(items) => {
                        out.push_str(&" ".repeat(level));
                        self.seq(items, level, out);
                    }
                    _ => unreachable!(),
                }
            }
        }
    }

    fn seq(&self, items: &[Value], level: usize, out: &mut String) {
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(level));
            }
            out.push('-');
            if self.inline(v) {
                out.push(' ');
                out.push_str(&inline_text(v));
                out.push('\n');
            } else {
                out.push_str(&" ".repeat(self.indent - 1));
                match v {
                    Value::Object(child) => self.map(child, level + self.indent, out),
                    Value::Array(inner) => self.seq(inner, level + self.indent, out),
                    _ => unreachable!(),
                }
            }
        }
    }
}

fn inline_text(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => flow(v),
        s => scalar_text(s, false),
    }
}

fn flow(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{}: {}", scalar_text(&Value::String((*k).clone()), true), flow(&m[*k]))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        s => scalar_text(s, true),
    }
}

fn scalar_text(v: &Value, in_flow: bool) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => if *b { "true" } else { "false" }.into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if s.contains('\n') || s.chars().any(|c| c.is_control() && c != '\t') {
                double_quoted(s)
            } else if needs_quotes(s, in_flow) {
                format!("'{}'", s.replace('\'', "''"))
            } else {
                s.clone()
            }
        }
        other => other.to_string(),
    }
}

fn needs_quotes(s: &str, in_flow: bool) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    if pyyaml_bool(s).is_some() || matches!(s, "~" | "null" | "Null" | "NULL") || pyyaml_float(s) || looks_int(s) || looks_timestamp(s) {
        return true;
    }
    let first = s.chars().next().unwrap();
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-x`, `?x`, `:x` are fine plain when not followed by a space; keep it simple and safe
        let second = s.chars().nth(1);
        if !(matches!(first, '-' | '?' | ':') && second.is_some_and(|c| !c.is_whitespace())) {
            return true;
        }
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return true;
    }
    in_flow && s.contains([',', '[', ']', '{', '}'])
}

fn looks_int(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s).replace('_', "");
    !t.is_empty()
        && (t.bytes().all(|c| c.is_ascii_digit())
            || t.strip_prefix("0x").is_some_and(|h| !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit()))
            || t.strip_prefix("0b").is_some_and(|h| !h.is_empty() && h.bytes().all(|c| c == b'0' || c == b'1')))
}

fn looks_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit) && b[5].is_ascii_digit()
}

fn double_quoted(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if c.is_control() => o.push_str(&format!("\\x{:02X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}
