//! JSON text as Python's json.dumps writes it (Ansible's to_json / to_nice_json).
use serde_json::Value;

/// `indent: None` gives `{"a": 1, "b": [1, 2]}`; `Some(n)` pretty-prints with `,`/`: ` separators.
pub fn python_json(v: &Value, indent: Option<usize>, sort_keys: bool, ensure_ascii: bool) -> String {
    let mut s = String::new();
    write(v, indent, sort_keys, ensure_ascii, 0, &mut s);
    s
}

fn write(v: &Value, indent: Option<usize>, sort: bool, ascii: bool, level: usize, s: &mut String) {
    let nl = |s: &mut String, level: usize| {
        if let Some(n) = indent {
            s.push('\n');
            s.push_str(&" ".repeat(n * level));
        }
    };
    let sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => s.push_str("null"),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => s.push_str(&n.to_string()),
        Value::String(t) => string(t, ascii, s),
        Value::Array(items) => {
            if items.is_empty() {
                s.push_str("[]");
                return;
            }
            s.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                nl(s, level + 1);
                write(it, indent, sort, ascii, level + 1, s);
            }
            nl(s, level);
            s.push(']');
        }
        Value::Object(m) => {
            if m.is_empty() {
                s.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            s.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                nl(s, level + 1);
                string(k, ascii, s);
                s.push_str(": ");
                write(&m[*k], indent, sort, ascii, level + 1, s);
            }
            nl(s, level);
            s.push('}');
        }
    }
}

fn string(t: &str, ascii: bool, s: &mut String) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            c if (c as u32) < 0x20 || (ascii && (c as u32) > 0x7f) => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    s.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => s.push(c),
        }
    }
    s.push('"');
}
