//! Data filters: to/from JSON and YAML, combine, dict2items/items2dict, ternary, bool, type_debug...
use super::{invalid, text_of, to_data};
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Error, ErrorKind, State, Value};
use serde_json::{Map, Value as J};

pub fn to_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    Ok(super::python_json(&to_data(&v)?, indent, sort_keys.unwrap_or(false), ensure_ascii.unwrap_or(true)))
}

pub fn to_nice_json(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    Ok(super::python_json(&to_data(&v)?, Some(indent.unwrap_or(4)), sort_keys.unwrap_or(true), ensure_ascii.unwrap_or(true)))
}

pub fn from_json(v: String) -> Result<Value, Error> {
    let j: J = serde_json::from_str(&v).map_err(|e| invalid(format!("from_json: {e}")))?;
    Ok(Value::from_serialize(&j))
}

pub fn to_yaml(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let flow: Option<bool> = kwargs.get("default_flow_style")?;
    let _: Option<usize> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    Ok(super::python_yaml(&to_data(&v)?, indent.unwrap_or(2), flow.is_none()))
}

pub fn to_nice_yaml(v: Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<usize> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    Ok(super::python_yaml(&to_data(&v)?, indent.unwrap_or(4), false))
}

pub fn from_yaml(v: String) -> Result<Value, Error> {
    let j = crate::yaml::parse_str(&v, std::path::Path::new("<from_yaml>")).map_err(|e| invalid(format!("from_yaml: {}", e.message)))?;
    Ok(Value::from_serialize(&j))
}

/// `combine(d2, d3, recursive=False, list_merge='replace')`; arguments may also be lists of dicts.
pub fn combine(base: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: Option<bool> = kwargs.get("recursive")?;
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    kwargs.assert_all_used()?;
    let list_merge = list_merge.unwrap_or_else(|| "replace".into());
    if !["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"].contains(&list_merge.as_str()) {
        return Err(invalid(format!("combine: list_merge must be replace, keep, append, prepend, append_rp or prepend_rp, not '{list_merge}'")));
    }
    let mut dicts = Vec::new();
    for v in std::iter::once(base).chain(others.0) {
        match to_data(&v)? {
            J::Object(m) => dicts.push(m),
            J::Array(items) => {
                for i in items {
                    match i {
                        J::Object(m) => dicts.push(m),
                        other => return Err(invalid(format!("combine: expected dicts, got {}", json_type(&other)))),
                    }
                }
            }
            other => return Err(invalid(format!("combine: expected dicts, got {}", json_type(&other)))),
        }
    }
    let mut out = Map::new();
    for d in dicts {
        merge(&mut out, d, recursive.unwrap_or(false), &list_merge);
    }
    Ok(Value::from_serialize(J::Object(out)))
}

fn merge(into: &mut Map<String, J>, from: Map<String, J>, recursive: bool, list_merge: &str) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(J::Object(a)), J::Object(b)) if recursive => merge(a, b, recursive, list_merge),
            (Some(J::Array(a)), J::Array(b)) => match list_merge {
                "keep" => {}
                "append" => a.extend(b),
                "prepend" => {
                    let old = std::mem::replace(a, b);
                    a.extend(old);
                }
                "append_rp" => {
                    a.retain(|x| !b.contains(x));
                    a.extend(b);
                }
                "prepend_rp" => {
                    let old: Vec<J> = std::mem::take(a).into_iter().filter(|x| !b.contains(x)).collect();
                    *a = b;
                    a.extend(old);
                }
                _ => *a = b,
            },
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

fn json_type(v: &J) -> &'static str {
    match v {
        J::Null => "NoneType",
        J::Bool(_) => "bool",
        J::Number(n) if n.is_f64() => "float",
        J::Number(_) => "int",
        J::String(_) => "str",
        J::Array(_) => "list",
        J::Object(_) => "dict",
    }
}

pub fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let (kn, vn) = (key_name.unwrap_or_else(|| "key".into()), value_name.unwrap_or_else(|| "value".into()));
    let J::Object(m) = to_data(&v)? else {
        return Err(invalid(format!("dict2items requires a dictionary, got {}", type_name(&v))));
    };
    let items: Vec<J> = m
        .into_iter()
        .map(|(k, v)| {
            let mut e = Map::new();
            e.insert(kn.clone(), J::String(k));
            e.insert(vn.clone(), v);
            J::Object(e)
        })
        .collect();
    Ok(Value::from_serialize(&items))
}

pub fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let (kn, vn) = (key_name.unwrap_or_else(|| "key".into()), value_name.unwrap_or_else(|| "value".into()));
    let J::Array(items) = to_data(&v)? else {
        return Err(invalid(format!("items2dict requires a list, got {}", type_name(&v))));
    };
    let mut out = Map::new();
    for it in items {
        let (Some(k), Some(val)) = (it.get(&kn), it.get(&vn)) else {
            return Err(invalid(format!("items2dict: each item needs '{kn}' and '{vn}' keys, got {it}")));
        };
        let key = match k {
            J::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(key, val.clone());
    }
    Ok(Value::from_serialize(J::Object(out)))
}

/// `cond | ternary(true_val, false_val, none_val)`.
pub fn ternary(v: Value, yes: Value, no: Value, none_val: Option<Value>) -> Result<Value, Error> {
    if v.is_none() {
        if let Some(n) = none_val {
            return Ok(n);
        }
    }
    if v.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(if v.is_true() { yes } else { no })
}

/// Ansible's `bool`: true for True, 1, and the strings yes/on/1/true (any case); false otherwise.
pub fn to_bool(v: Value) -> Result<bool, Error> {
    if v.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::None => false,
        ValueKind::Number => v.as_i64() == Some(1) || (v.as_i64().is_none() && to_f64(&v) == Some(1.0)),
        ValueKind::String => matches!(v.as_str().unwrap_or("").trim().to_ascii_lowercase().as_str(), "yes" | "on" | "1" | "true"),
        _ => false,
    })
}

fn to_f64(v: &Value) -> Option<f64> {
    f64::try_from(v.clone()).ok()
}

/// Python's str(): `True`, `None`, `['a']`.
pub fn string(v: Value) -> Result<String, Error> {
    if v.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(text_of(&v))
}

/// Python type names, as Ansible's type_debug.
pub fn type_debug(v: Value) -> String {
    type_name(&v).to_string()
}

fn type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if v.as_i64().is_some() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

pub fn mandatory(v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(invalid(msg.unwrap_or_else(|| "mandatory variable not defined".into())));
    }
    Ok(v)
}

/// `'web01' | extract(hostvars, 'ansible_host')`, also via `map('extract', ...)`.
pub fn extract(state: &State, item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut v = container.get_item(&item)?;
    if v.is_undefined() {
        return Err(Error::new(ErrorKind::UndefinedError, format!("extract: {item} not found")));
    }
    if let Some(keys) = morekeys {
        let list: Vec<Value> = if keys.kind() == ValueKind::Seq { keys.try_iter()?.collect() } else { vec![keys] };
        for k in list {
            v = v.get_item(&k)?;
        }
    }
    let _ = state;
    Ok(v)
}
