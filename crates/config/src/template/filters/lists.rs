//! Set-like list filters (order kept, like Ansible's), flatten, subelements, zip_longest.
use super::invalid;
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Error, Value};

fn items(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::Seq | ValueKind::Iterable | ValueKind::Map | ValueKind::String => Ok(v.try_iter()?.collect()),
        _ => Err(invalid(format!("{what} expects a list, got {v}"))),
    }
}

fn dedup(list: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for i in list {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

pub fn unique(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let case_sensitive: Option<bool> = kwargs.get("case_sensitive")?;
    kwargs.assert_all_used()?;
    let list = items(&v, "unique")?;
    let key = |x: &Value| -> Value {
        let k = match &attribute {
            Some(a) => x.get_attr(a).unwrap_or_default(),
            None => x.clone(),
        };
        match (case_sensitive, k.as_str()) {
            (Some(false), Some(s)) => Value::from(s.to_lowercase()),
            _ => k,
        }
    };
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for i in list {
        let k = key(&i);
        if !seen.contains(&k) {
            seen.push(k);
            out.push(i);
        }
    }
    Ok(Value::from(out))
}

pub fn union(a: Value, b: Value) -> Result<Value, Error> {
    let mut l = items(&a, "union")?;
    l.extend(items(&b, "union")?);
    Ok(Value::from(dedup(l)))
}

pub fn intersect(a: Value, b: Value) -> Result<Value, Error> {
    let bl = items(&b, "intersect")?;
    Ok(Value::from(dedup(items(&a, "intersect")?.into_iter().filter(|x| bl.contains(x)).collect())))
}

pub fn difference(a: Value, b: Value) -> Result<Value, Error> {
    let bl = items(&b, "difference")?;
    Ok(Value::from(dedup(items(&a, "difference")?.into_iter().filter(|x| !bl.contains(x)).collect())))
}

pub fn symmetric_difference(a: Value, b: Value) -> Result<Value, Error> {
    let (al, bl) = (items(&a, "symmetric_difference")?, items(&b, "symmetric_difference")?);
    let mut out: Vec<Value> = al.iter().filter(|x| !bl.contains(x)).cloned().collect();
    out.extend(bl.iter().filter(|x| !al.contains(x)).cloned());
    Ok(Value::from(dedup(out)))
}

/// `flatten(levels=None, skip_nulls=True)`.
pub fn flatten(v: Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels = match levels {
        Some(l) => Some(l),
        None => kwargs.get::<Option<i64>>("levels")?,
    };
    let skip_nulls: Option<bool> = kwargs.get("skip_nulls")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flat(items(&v, "flatten")?, levels, skip_nulls.unwrap_or(true), &mut out)?;
    Ok(Value::from(out))
}

fn flat(list: Vec<Value>, levels: Option<i64>, skip_nulls: bool, out: &mut Vec<Value>) -> Result<(), Error> {
    for i in list {
        if skip_nulls && i.is_none() {
            continue;
        }
        if i.kind() == ValueKind::Seq && levels.is_none_or(|l| l > 0) {
            flat(i.try_iter()?.collect(), levels.map(|l| l - 1), skip_nulls, out)?;
        } else {
            out.push(i);
        }
    }
    Ok(())
}

/// `users | subelements('keys')` -> `[[user, key], ...]`.
pub fn subelements(v: Value, key: String, kwargs: Kwargs) -> Result<Value, Error> {
    let skip_missing: Option<bool> = kwargs.get("skip_missing")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    for item in items(&v, "subelements")? {
        let mut sub = item.clone();
        for part in key.split('.') {
            sub = sub.get_attr(part)?;
        }
        if sub.is_undefined() {
            if skip_missing.unwrap_or(false) {
                continue;
            }
            return Err(invalid(format!("subelements: could not find '{key}' in {item}")));
        }
        for s in items(&sub, "subelements")? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}

pub fn zip_longest(v: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let mut lists = vec![items(&v, "zip_longest")?];
    for o in others.0 {
        lists.push(items(&o, "zip_longest")?);
    }
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    let fill = fill.unwrap_or(Value::from(()));
    Ok(Value::from((0..n).map(|i| Value::from(lists.iter().map(|l| l.get(i).cloned().unwrap_or(fill.clone())).collect::<Vec<_>>())).collect::<Vec<_>>()))
}
