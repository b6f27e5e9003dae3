//! Loop items: `loop`/`with_list` as is, `with_items` flattened one level, `with_dict` as key/value items,
//! `with_<lookup>` through lookups.rs.
use super::lookups::{self, LookupEnv};
use crate::playbook::task::{LoopKind, LoopSpec};
use serde_json::{Map, Value};

/// Turn a rendered loop value into items.
pub fn items(spec: &LoopSpec, rendered: Value, env: &LookupEnv<'_>) -> Result<Vec<Value>, String> {
    match spec.kind {
        LoopKind::Lookup(name) => lookups::items(name, rendered, env),
        LoopKind::List => match rendered {
            Value::Array(a) => Ok(a),
            Value::Null => Ok(vec![]),
            Value::String(s) if spec.kind == LoopKind::List => Err(format!("loop needs a list, got the string `{s}` (use `{{{{ var }}}}` or split it)")),
            other => Err(format!("loop needs a list, got {}", kind(&other))),
        },
        LoopKind::Items => match rendered {
            Value::Array(a) => Ok(a
                .into_iter()
                .flat_map(|v| match v {
                    Value::Array(inner) => inner,
                    x => vec![x],
                })
                .collect()),
            Value::Null => Ok(vec![]),
            x => Ok(vec![x]),
        },
        LoopKind::Dict => match rendered {
            Value::Object(m) => Ok(m
                .into_iter()
                .map(|(k, v)| {
                    let mut o = Map::new();
                    o.insert("key".into(), Value::String(k));
                    o.insert("value".into(), v);
                    Value::Object(o)
                })
                .collect()),
            Value::Null => Ok(vec![]),
            other => Err(format!("with_dict needs a mapping, got {}", kind(&other))),
        },
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Short label for `(item=...)` output.
pub fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
