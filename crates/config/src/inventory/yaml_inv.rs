//! Ansible's YAML inventory format: `all: {hosts: {h: {vars}}, vars: {}, children: {g: {...}}}`.
//! Unlike Ansible, which only warns, an unexpected key in a group is an error (with its line:col):
//! it is almost always a typo (`host:` for `hosts:`) that would silently drop hosts.
use super::range::{expand_host_range, split_port};
use super::Inventory;
use crate::error::ConfigError;
use crate::yaml::{Node, NodeKind};
use serde_json::Value;
use std::path::Path;

pub fn parse(inv: &mut Inventory, text: &str, file: &Path) -> Result<(), ConfigError> {
    let root = crate::yaml::parse_nodes(text, file)?;
    match &root.kind {
        NodeKind::Map(entries) => {
            for (name, data) in entries {
                group(inv, &name.value, data, file)?;
            }
            Ok(())
        }
        NodeKind::Scalar(Value::Null) => Ok(()),
        _ => Err(at(file, &root, "a YAML inventory must be a mapping of group names (e.g. `all:`)".into())),
    }
}

fn at(file: &Path, n: &Node, msg: String) -> ConfigError {
    ConfigError::at(file, n.origin.line, n.origin.col, msg)
}

fn group(inv: &mut Inventory, name: &str, data: &Node, file: &Path) -> Result<(), ConfigError> {
    inv.ensure_group(name);
    let entries = match &data.kind {
        NodeKind::Map(e) => e,
        NodeKind::Scalar(Value::Null) => return Ok(()),
        _ => return Err(at(file, data, format!("group '{name}' must be a mapping with hosts/children/vars, found {}", data.kind_name()))),
    };
    for (key, val) in entries {
        let keyerr = |msg: String| ConfigError::at(file, key.origin.line, key.origin.col, msg);
        match (key.value.as_str(), &val.kind) {
            (_, NodeKind::Scalar(Value::Null)) => {}
            ("vars", NodeKind::Map(vars)) => {
                let g = inv.ensure_group(name);
                for (k, v) in vars {
                    g.vars.insert(k.value.clone(), v.to_value());
                }
            }
            ("children", NodeKind::Map(kids)) => {
                for (kid, kdata) in kids {
                    group(inv, &kid.value, kdata, file)?;
                    inv.add_child(name, &kid.value);
                }
            }
            // a bare string is allowed: `children: web` means `{web: null}`
            ("children", NodeKind::Scalar(Value::String(kid))) => {
                inv.ensure_group(kid);
                inv.add_child(name, kid);
            }
            ("hosts", NodeKind::Map(hosts)) => {
                for (pat, hvars) in hosts {
                    add_hosts(inv, name, &pat.value, hvars, file, &pat.origin)?;
                }
            }
            ("hosts", NodeKind::Scalar(Value::String(h))) => {
                let null = Node { origin: val.origin.clone(), kind: NodeKind::Scalar(Value::Null) };
                add_hosts(inv, name, h, &null, file, &val.origin)?;
            }
            ("vars" | "children" | "hosts", _) => return Err(at(file, val, format!("'{}' of group '{name}' must be a mapping, found {}", key.value, val.kind_name()))),
            (other, _) => return Err(keyerr(format!("unexpected key '{other}' in group '{name}': only hosts, children and vars are valid"))),
        }
    }
    Ok(())
}

fn add_hosts(inv: &mut Inventory, group: &str, pattern: &str, vars: &Node, file: &Path, origin: &crate::yaml::Origin) -> Result<(), ConfigError> {
    let err = |m: String| ConfigError::at(file, origin.line, origin.col, m);
    let (pat, port) = split_port(pattern).map_err(err)?;
    let names = expand_host_range(&pat).map_err(err)?;
    let vars = match vars.to_value() {
        Value::Object(m) => m,
        Value::Null => Default::default(),
        _ => return Err(at(file, vars, format!("variables of host '{pattern}' must be a mapping, found {}", vars.kind_name()))),
    };
    for h in names {
        inv.add_host_to_group(&h, group);
        let host = inv.ensure_host(&h);
        host.vars.extend(vars.clone());
        if let Some(p) = port {
            host.vars.insert("ansible_port".into(), Value::Number(p.into()));
        }
    }
    Ok(())
}
