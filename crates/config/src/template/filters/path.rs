//! Path filters with Python's os.path semantics.
use super::{invalid, text_of};
use minijinja::{Error, Value};

pub fn basename(v: String) -> String {
    match v.rfind('/') {
        Some(i) => v[i + 1..].to_string(),
        None => v,
    }
}

pub fn dirname(v: String) -> String {
    match v.rfind('/') {
        Some(i) => {
            let head = &v[..=i];
            // os.path.dirname strips trailing slashes unless the head is all slashes
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    }
}

pub fn expanduser(v: String) -> String {
    if v == "~" || v.starts_with("~/") {
        if let Ok(home) = std::env::var("HOME") {
            return format!("{home}{}", &v[1..]);
        }
    }
    v
}

/// os.path.splitext: `['/a/b', '.tar']` for `/a/b.tar`; a leading dot is not an extension.
pub fn splitext(v: String) -> Value {
    let base_start = v.rfind('/').map(|i| i + 1).unwrap_or(0);
    let base = &v[base_start..];
    let lead = base.len() - base.trim_start_matches('.').len();
    match base[lead..].rfind('.') {
        Some(i) => {
            let at = base_start + lead + i;
            Value::from(vec![Value::from(&v[..at]), Value::from(&v[at..])])
        }
        None => Value::from(vec![Value::from(v.as_str()), Value::from("")]),
    }
}

pub fn realpath(v: String) -> String {
    std::fs::canonicalize(&v).map(|p| p.display().to_string()).unwrap_or(v)
}

/// `['/etc', 'ssh', 'sshd_config'] | path_join`.
pub fn path_join(v: Value) -> Result<String, Error> {
    let parts: Vec<String> = match v.as_str() {
        Some(s) => vec![s.to_string()],
        None => v.try_iter().map_err(|_| invalid("path_join expects a list of strings"))?.map(|p| text_of(&p)).collect(),
    };
    let mut out = String::new();
    for p in parts {
        if p.starts_with('/') {
            out = p;
        } else if out.is_empty() || out.ends_with('/') {
            out.push_str(&p);
        } else {
            out.push('/');
            out.push_str(&p);
        }
    }
    Ok(out)
}
