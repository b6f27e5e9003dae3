//! `add_host` and `group_by`: change the in-memory inventory during a run, as Ansible's
//! `add_dynamic_host`/`add_dynamic_group` do. Groups and group membership are visible at once
//! (`groups`, `group_names`, later plays' host patterns); a new host gets its slot when the next
//! batch or play starts (until then `hostvars` shows its inventory variables).
use super::outcome::ItemOutcome;
use super::Executor;
use mdxconf_config::inventory::{dir_vars_for, Group, Host, Inventory};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// `name`, `name:port`, `[v6addr]:port` (Ansible's parse_address, without ranges).
fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            return (addr.to_string(), tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => (h.to_string(), p.parse().ok()),
        _ => (s.to_string(), None),
    }
}

/// A string (comma separated) or a list of strings.
fn name_list(v: &Value) -> Result<Vec<String>, String> {
    let raw: Vec<String> = match v {
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect(),
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        Value::Null => vec![],
        other => return Err(format!("expected a group name or a list of them, found `{other}`")),
    };
    let mut out: Vec<String> = Vec::new();
    for n in raw.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

/// The group `name`, created if missing (then `changed` is set).
fn ensure_group<'a>(inv: &'a mut Inventory, name: &str, changed: &mut bool) -> &'a mut Group {
    if !inv.groups.contains_key(name) {
        *changed = true;
    }
    inv.ensure_group(name)
}

/// Put `child` under `parent` (false if it already was).
fn link(inv: &mut Inventory, parent: &str, child: &str) -> bool {
    let p = inv.ensure_group(parent);
    if p.children.iter().any(|c| c == child) {
        return false;
    }
    p.children.push(child.to_string());
    true
}

/// Add `host` to `group` (false if already a direct member); keeps `ungrouped` right.
fn join(inv: &mut Inventory, host: &str, group: &str) -> bool {
    let g = inv.ensure_group(group);
    if g.hosts.iter().any(|h| h == host) {
        return false;
    }
    g.hosts.push(host.to_string());
    if group != "all" && group != "ungrouped" {
        if let Some(u) = inv.groups.get_mut("ungrouped") {
            u.hosts.retain(|h| h != host);
        }
    }
    true
}

/// The variables of a group_vars/ or host_vars/ entry's files, with each file's layer position.
type FileVars = Vec<(usize, Map<String, Value>)>;

/// A group created at run time gets its group_vars/ files.
fn set_group_files(inv: &mut Inventory, group: &str, files: &[(String, FileVars)]) {
    if let (Some(g), Some((_, v))) = (inv.groups.get_mut(group), files.iter().find(|(n, _)| n == group)) {
        g.dir_vars = v.clone();
    }
}

/// A group created at run time hangs under `all` unless it got another parent (Ansible's reconcile).
fn adopt_orphan(inv: &mut Inventory, group: &str) {
    let has_parent = inv.groups.values().any(|g| g.children.iter().any(|c| c == group));
    if group != "all" && !has_parent {
        link(inv, "all", group);
    }
}

impl Executor {
    /// `group_vars/<name>` or `host_vars/<name>` (`kind`) from each vars directory the inventory
    /// read, as (layer, variables): what Ansible's vars plugin finds for a group or host created at run time.
    fn dir_vars(&self, kind: &str, name: &str) -> Result<FileVars, String> {
        let mut out = Vec::new();
        for (layer, dir) in self.vars_dirs.iter().enumerate() {
            if let Some(m) = dir_vars_for(&dir.join(kind), name).map_err(|e| e.to_string())? {
                out.push((layer, m));
            }
        }
        Ok(out)
    }

    /// dir_vars for several groups at once (read before the inventory is locked).
    fn groups_dir_vars(&self, names: &[String]) -> Result<Vec<(String, FileVars)>, String> {
        names.iter().map(|g| self.dir_vars("group_vars", g).map(|v| (g.clone(), v))).collect()
    }

    /// `add_host`: runs once per batch (it bypasses the host loop); `changed` when the inventory changed.
    pub fn add_host(&self, args: Map<String, Value>) -> ItemOutcome {
        let Some(raw) = ["name", "hostname", "host"].iter().find_map(|k| args.get(*k)) else {
            return ItemOutcome::failed("add_host: name, host or hostname needs to be provided");
        };
        let raw = match raw {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        };
        if raw.is_empty() {
            return ItemOutcome::failed("add_host: the host name is empty");
        }
        let (name, port) = split_host_port(&raw);
        let groups_arg = ["groupname", "groups", "group"].iter().find_map(|k| args.get(*k)).cloned().unwrap_or(Value::Null);
        let groups = match name_list(&groups_arg) {
            Ok(g) => g,
            Err(e) => return ItemOutcome::failed(format!("add_host: groups: {e}")),
        };
        let mut host_vars: Map<String, Value> =
            args.iter().filter(|(k, _)| !matches!(k.as_str(), "name" | "hostname" | "host" | "groupname" | "groups" | "group")).map(|(k, v)| (k.clone(), v.clone())).collect();
        if let Some(p) = port {
            host_vars.insert("ansible_port".into(), Value::from(p));
        }
        let (host_files, group_files) = match self.dir_vars("host_vars", &name).and_then(|h| Ok((h, self.groups_dir_vars(&groups)?))) {
            Ok(v) => v,
            Err(e) => return ItemOutcome::failed(format!("add_host: {e}")),
        };
        let mut changed = false;
        {
            let mut inv = self.inv();
            if !inv.hosts.contains_key(&name) {
                inv.hosts.insert(name.clone(), Host { name: name.clone(), dir_vars: host_files, ..Default::default() });
                changed = true;
            }
            let h = inv.hosts.get_mut(&name).expect("just inserted");
            for (k, v) in &host_vars {
                if h.vars.get(k) != Some(v) {
                    h.vars.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
            for g in &groups {
                let mut created = false;
                ensure_group(&mut inv, g, &mut created);
                if created {
                    set_group_files(&mut inv, g, &group_files);
                    adopt_orphan(&mut inv, g);
                    changed = true;
                }
                changed |= join(&mut inv, &name, g);
            }
            // A host in no group is in `ungrouped`.
            if !inv.groups.iter().any(|(gn, g)| gn != "all" && gn != "ungrouped" && g.hosts.contains(&name)) {
                join(&mut inv, &name, "ungrouped");
            }
            inv.index = OnceLock::new();
            self.after_inventory_change(&inv, std::slice::from_ref(&name));
        }
        self.hosts.add_pending(&name);
        let mut info = Map::new();
        info.insert("host_name".into(), Value::String(name));
        info.insert("groups".into(), Value::Array(groups.into_iter().map(Value::String).collect()));
        info.insert("host_vars".into(), Value::Object(host_vars));
        let mut data = Map::new();
        data.insert("add_host".into(), Value::Object(info));
        ItemOutcome::ok(changed, "", data)
    }

    /// `group_by`: put host `h` into group `key` (created under `parents`, default `all`).
    pub fn group_by(&self, h: usize, args: Map<String, Value>) -> ItemOutcome {
        let key = match args.get("key") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => return ItemOutcome::failed("the 'key' param is required when using group_by"),
            Some(other) => other.to_string(),
        };
        // Ansible replaces spaces in group names.
        let key = key.replace(' ', "-");
        if key.is_empty() {
            return ItemOutcome::failed("group_by: `key` rendered to an empty group name");
        }
        let parents = match args.get("parents") {
            None => vec!["all".to_string()],
            Some(v) => match name_list(v) {
                Ok(p) => p.into_iter().map(|p| p.replace(' ', "-")).collect(),
                Err(e) => return ItemOutcome::failed(format!("group_by: parents: {e}")),
            },
        };
        let host = self.hosts[h].name.clone();
        let mut names = vec![key.clone()];
        names.extend(parents.iter().cloned());
        let group_files = match self.groups_dir_vars(&names) {
            Ok(v) => v,
            Err(e) => return ItemOutcome::failed(format!("group_by: {e}")),
        };
        let mut changed = false;
        {
            let mut inv = self.inv();
            let mut touched = vec![host.clone()];
            let mut created = false;
            ensure_group(&mut inv, &key, &mut created);
            if created {
                set_group_files(&mut inv, &key, &group_files);
            }
            let mut relinked = false;
            for p in &parents {
                let mut new_parent = false;
                ensure_group(&mut inv, p, &mut new_parent);
                if new_parent {
                    set_group_files(&mut inv, p, &group_files);
                    adopt_orphan(&mut inv, p);
                    changed = true;
                }
                if p != &key && link(&mut inv, p, &key) {
                    relinked = true;
                    changed = true;
                }
            }
            changed |= join(&mut inv, &host, &key);
            inv.index = OnceLock::new();
            if relinked && !created {
                // An existing group got a new parent: its other hosts' group_names change too.
                touched = inv.group_hosts(&key);
            }
            self.after_inventory_change(&inv, &touched);
        }
        let mut data = Map::new();
        data.insert("add_group".into(), Value::String(key));
        data.insert("parent_groups".into(), Value::Array(parents.into_iter().map(Value::String).collect()));
        ItemOutcome::ok(changed, "", data)
    }

    /// Refresh `groups` and the touched hosts' group_names/inventory variables.
    fn after_inventory_change(&self, inv: &Inventory, touched: &[String]) {
        *self.groups_var.write().unwrap_or_else(|p| p.into_inner()) = Value::Object(inv.groups_var());
        for name in touched {
            self.hosts.refresh(inv, name);
        }
    }

    /// Give hosts created by `add_host` their slots (between batches: the host list only grows).
    pub fn materialize_added_hosts(&mut self) {
        let inv = self.inventory.get_mut().unwrap_or_else(|p| p.into_inner());
        self.hosts.admit_pending(inv);
    }

    /// Inventory variables of a host that has no slot (added this batch) or of a non-inventory
    /// address (then only the `all` group's variables apply, as for Ansible's implicit hosts).
    pub fn unslotted_host_vars(&self, name: &str) -> (Map<String, Value>, Value) {
        let inv = self.inv();
        let mut vars = inv.groups.get("all").map(|g| g.vars.clone()).unwrap_or_default();
        vars.extend(inv.host_vars(name));
        let gn = Value::Array(inv.group_names(name).into_iter().map(Value::String).collect());
        (vars, gn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(split_host_port("web1"), ("web1".into(), None));
        assert_eq!(split_host_port("10.0.0.5:2222"), ("10.0.0.5".into(), Some(2222)));
        assert_eq!(split_host_port("[fe80::1]:22"), ("fe80::1".into(), Some(22)));
        assert_eq!(split_host_port("fe80::1"), ("fe80::1".into(), None));
    }

    #[test]
    fn group_lists() {
        assert_eq!(name_list(&Value::String("a, b,a".into())).unwrap(), vec!["a", "b"]);
        assert_eq!(name_list(&serde_json::json!(["x", "y"])).unwrap(), vec!["x", "y"]);
        assert!(name_list(&serde_json::json!({"a": 1})).is_err());
    }
}
