//! `lookup()` / `query()` on the controller: file, env, pipe, template, items/list.
//! `file` searches `role_path/files`, `role_path`, `playbook_dir/files`, `playbook_dir`, then the
//! working directory, like Ansible's search path; trailing newlines are stripped (rstrip=True).
use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, ErrorKind, State, Value};
use std::path::{Path, PathBuf};

pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |state: &State, name: String, args: Rest<Value>, kw: Kwargs| lookup(state, &name, args, kw, false));
    env.add_function("query", |state: &State, name: String, args: Rest<Value>, kw: Kwargs| lookup(state, &name, args, kw, true));
    env.add_function("q", |state: &State, name: String, args: Rest<Value>, kw: Kwargs| lookup(state, &name, args, kw, true));
}

fn err(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn lookup(state: &State, name: &str, args: Rest<Value>, kw: Kwargs, want_list: bool) -> Result<Value, Error> {
    let wantlist: Option<bool> = kw.get("wantlist")?;
    let errors: Option<String> = kw.get("errors")?;
    let default: Option<Value> = kw.get("default")?;
    let rstrip: Option<bool> = kw.get("rstrip")?;
    let template_vars: Option<Value> = kw.get("template_vars")?;
    kw.assert_all_used()?;
    let want_list = want_list || wantlist.unwrap_or(false);
    let terms: Vec<String> = args.0.iter().map(super::format::python_str).collect();
    let results: Result<Vec<Value>, Error> = match name {
        "file" | "ansible.builtin.file" => terms
            .iter()
            .map(|t| {
                let p = find_file(state, t)
                    .ok_or_else(|| err(format!("lookup('file'): could not find '{t}' (searched role files/, role, playbook files/, playbook dir, working directory)")))?;
                // a vault file is decrypted, as Ansible's file lookup does
                let text = crate::vault::store::read_text(&p).map_err(|e| err(format!("lookup('file'): {e}")))?;
                Ok(Value::from(if rstrip.unwrap_or(true) { text.trim_end().to_string() } else { text }))
            })
            .collect(),
        "env" | "ansible.builtin.env" => terms
            .iter()
            .map(|t| match std::env::var(t) {
                Ok(v) => Ok(Value::from(v)),
                Err(_) => Ok(default.clone().unwrap_or(Value::from(""))),
            })
            .collect(),
        "pipe" | "ansible.builtin.pipe" => terms
            .iter()
            .map(|t| {
                let out = std::process::Command::new("sh").arg("-c").arg(t).output().map_err(|e| err(format!("lookup('pipe'): {e}")))?;
                if !out.status.success() {
                    return Err(err(format!("lookup('pipe'): `{t}` exited with {}", out.status)));
                }
                Ok(Value::from(String::from_utf8_lossy(&out.stdout).trim_end().to_string()))
            })
            .collect(),
        "template" | "ansible.builtin.template" => terms
            .iter()
            .map(|t| {
                let p = find_in(state, t, "templates").ok_or_else(|| {
                    err(format!("lookup('template'): could not find '{t}' (searched role templates/, role, playbook templates/, playbook dir, working directory)"))
                })?;
                let text = crate::vault::store::read_text(&p).map_err(|e| err(format!("lookup('template'): {e}")))?;
                // the template sees the caller's variables (and template_vars, when given)
                let mut ctx = std::collections::BTreeMap::new();
                for name in state.known_variables() {
                    if let Some(v) = state.lookup(&name) {
                        ctx.insert(name.to_string(), v);
                    }
                }
                if let Some(tv) = &template_vars {
                    for k in tv.try_iter()? {
                        ctx.insert(k.to_string(), tv.get_item(&k)?);
                    }
                }
                let name = p.display().to_string();
                let out = state.env().template_from_named_str(&name, &text)?.render(Value::from(ctx))?;
                Ok(Value::from(out))
            })
            .collect(),
        "items" | "list" | "ansible.builtin.items" | "ansible.builtin.list" => Ok(args.0.clone()),
        other => Err(err(format!("lookup plugin '{other}' is not supported (file, env, pipe, template, items, list)"))),
    };
    let results = match (results, errors.as_deref()) {
        (Ok(r), _) => r,
        (Err(_), Some("ignore" | "warn")) => Vec::new(),
        (Err(e), _) => return Err(e),
    };
    if want_list {
        return Ok(Value::from(results));
    }
    Ok(match results.len() {
        1 => results.into_iter().next().unwrap(),
        _ => Value::from(results.iter().map(super::format::python_str).collect::<Vec<_>>().join(",")),
    })
}

fn find_file(state: &State, term: &str) -> Option<PathBuf> {
    find_in(state, term, "files")
}

/// Ansible's search path: role `sub`/, role, playbook `sub`/, playbook dir, working directory.
fn find_in(state: &State, term: &str, sub: &str) -> Option<PathBuf> {
    let p = Path::new(term);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    let mut dirs = Vec::new();
    for var in ["role_path", "playbook_dir"] {
        if let Some(d) = state.lookup(var).and_then(|v| v.as_str().map(PathBuf::from)) {
            dirs.push(d.join(sub));
            dirs.push(d);
        }
    }
    dirs.push(PathBuf::from("."));
    dirs.into_iter().map(|d| d.join(term)).find(|c| c.is_file())
}
