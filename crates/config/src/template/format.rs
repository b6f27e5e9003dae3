//! Printing values the way Ansible (Python) prints them in templates.
use minijinja::value::ValueKind;
use minijinja::{Error, Output, State, Value};
use std::fmt::Write;

/// The environment's formatter: None prints nothing (Ansible's finalize), the rest as Python's str().
pub fn python_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        // printing an undefined value is always an error (also in the Chainable retry env)
        return Err(Error::from(minijinja::ErrorKind::UndefinedError));
    }
    match value.kind() {
        ValueKind::None => Ok(()),
        ValueKind::Bool | ValueKind::Seq | ValueKind::Map => out.write_str(&python_str(value)).map_err(Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// Python's `str()` of a value (strings unquoted at top level).
pub fn python_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        _ => python_repr(v),
    }
}

/// Python's `repr()`: `['a', 1, True, None, {'k': 'v'}]`.
pub fn python_repr(v: &Value) -> String {
    let mut s = String::new();
    repr_into(v, &mut s);
    s
}

fn repr_into(v: &Value, s: &mut String) {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => s.push_str("None"),
        ValueKind::Bool => s.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::String => {
            let t = v.as_str().unwrap_or_default();
            // Python prefers single quotes unless the text has one and no double quote
            let q = if t.contains('\'') && !t.contains('"') { '"' } else { '\'' };
            s.push(q);
            for c in t.chars() {
                match c {
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    '\t' => s.push_str("\\t"),
                    '\r' => s.push_str("\\r"),
                    c if c == q => {
                        s.push('\\');
                        s.push(c);
                    }
                    c => s.push(c),
                }
            }
            s.push(q);
        }
        ValueKind::Seq | ValueKind::Iterable => {
            s.push('[');
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    repr_into(&item, s);
                }
            }
            s.push(']');
        }
        ValueKind::Map => {
            s.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, k) in iter.enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    repr_into(&k, s);
                    s.push_str(": ");
                    repr_into(&v.get_item(&k).unwrap_or_default(), s);
                }
            }
            s.push('}');
        }
        _ => {
            let _ = write!(s, "{v}");
        }
    }
}
