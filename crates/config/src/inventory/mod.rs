//! Ansible inventories, unchanged: INI and YAML files, directories of them, group_vars/ and host_vars/.
//!
//! Variable precedence (Ansible's, lowest first), see [`Inventory::host_vars`]:
//! inventory-file group vars (all < parents < children, by depth then name) < group_vars/all
//! < group_vars/<group> (same order) < inventory-file host vars < host_vars/<host>.
//! Within group_vars/ and host_vars/, the inventory's directory comes before the playbook's.
mod ini;
mod pattern;
mod pyliteral;
mod range;
mod vars_dirs;
mod yaml_inv;

pub use pyliteral::literal_eval;
pub use range::expand_host_range;
pub use vars_dirs::vars_for as dir_vars_for;

use crate::error::ConfigError;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    /// Variables set in the inventory file itself.
    pub vars: Map<String, Value>,
    /// Variables from `group_vars/<name>` files, one map per vars directory (inventory's, playbook's).
    pub dir_vars: Vec<(usize, Map<String, Value>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    /// Variables set in the inventory file itself.
    pub vars: Map<String, Value>,
    /// Variables from `host_vars/<name>` files, one map per vars directory.
    pub dir_vars: Vec<(usize, Map<String, Value>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    /// Always contains `all` and `ungrouped`.
    pub groups: IndexMap<String, Group>,
    /// How many group_vars/host_vars directories were read (orders their layers).
    pub vars_dirs_loaded: usize,
    /// Ansible's implicit localhost, added when a play names `localhost` that the inventory lacks: in no
    /// group, matched only by its own name (not by `all`, `*` or globs).
    pub implicit: Vec<String>,
    /// Membership index (host -> groups, group -> parents, depths), built on first use so that
    /// lookups stay linear with thousands of hosts. Reset by the mutating helpers.
    #[doc(hidden)]
    pub index: OnceLock<Index>,
}

/// Derived membership data; see [`Inventory::index`].
#[derive(Debug, Clone, Default)]
pub struct Index {
    direct_groups: HashMap<String, Vec<String>>,
    parents: HashMap<String, Vec<String>>,
    depth: HashMap<String, usize>,
}

impl Inventory {
    /// An inventory with only `all` and `ungrouped`.
    pub fn empty() -> Inventory {
        let mut inv = Inventory::default();
        inv.ensure_group("all");
        inv.ensure_group("ungrouped");
        inv
    }

    /// Load an INI or YAML inventory file (or a directory of them), plus group_vars/ and host_vars/ beside it.
    /// A path that does not exist but contains a comma is a host list (`-i web1,web2,` or
    /// `-i 10.0.0.5,`), as Ansible's host_list plugin reads it.
    pub fn load(path: &Path) -> Result<Inventory, ConfigError> {
        if let Some(list) = path.to_str().filter(|s| s.contains(',') && !path.exists()) {
            return Inventory::from_host_list(list, path);
        }
        let mut inv = Inventory::empty();
        inv.add_source(path)?;
        inv.finish();
        let vars_dir = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap_or(Path::new(".")).to_path_buf() };
        inv.load_vars_dirs(&vars_dir)?;
        Ok(inv)
    }

    /// `web1,web2:2222,10.0.0.5,` -> ungrouped hosts (a port after `:` sets ansible_port).
    pub fn from_host_list(list: &str, origin: &Path) -> Result<Inventory, ConfigError> {
        let mut inv = Inventory::empty();
        let mut col = 1;
        for item in list.split(',') {
            let h = item.trim();
            if !h.is_empty() {
                let (name, port) = range::split_port(h).map_err(|m| ConfigError::at(origin, 1, col, m))?;
                inv.add_host_to_group(&name, "ungrouped");
                if let Some(p) = port {
                    inv.ensure_host(&name).vars.insert("ansible_port".into(), Value::Number(p.into()));
                }
            }
            col += item.len() + 1;
        }
        inv.finish();
        Ok(inv)
    }

    /// Parse inventory text (INI or YAML, detected like Ansible's auto/yaml/ini order).
    /// `file` is only used for error messages. group_vars/host_vars are not read.
    pub fn parse_str(text: &str, file: &Path) -> Result<Inventory, ConfigError> {
        let mut inv = Inventory::empty();
        inv.add_text(text, file)?;
        inv.finish();
        Ok(inv)
    }

    /// Add the hosts and groups of one more inventory file or directory.
    fn add_source(&mut self, path: &Path) -> Result<(), ConfigError> {
        if path.is_dir() {
            for f in inventory_dir_files(path)? {
                self.add_source(&f)?;
            }
            return Ok(());
        }
        let text = crate::yaml::read_text(path)?;
        self.add_text(&text, path)
    }

    fn add_text(&mut self, text: &str, file: &Path) -> Result<(), ConfigError> {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "yml" | "yaml" | "json") {
            return yaml_inv::parse(self, text, file);
        }
        // No YAML extension: a YAML mapping is a YAML inventory, anything else is INI (as Ansible
        // tries both). A first line `[section]` is INI for sure (and saves a YAML parse).
        let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'));
        if first.is_some_and(|l| l.starts_with('[') && l.ends_with(']')) {
            return ini::parse(self, text, file);
        }
        if let Ok(node) = crate::yaml::parse_nodes(text, file) {
            if matches!(node.kind, crate::yaml::NodeKind::Map(_)) {
                return yaml_inv::parse(self, text, file);
            }
        }
        ini::parse(self, text, file)
    }

    /// Merge group_vars/ and host_vars/ found in `dir` (Ansible also reads them beside the playbook).
    pub fn load_vars_dirs(&mut self, dir: &Path) -> Result<(), ConfigError> {
        let layer = self.vars_dirs_loaded;
        vars_dirs::load(self, dir, layer)?;
        self.vars_dirs_loaded += 1;
        Ok(())
    }

    /// Hosts matching an Ansible pattern: `all`, `*`, group or host names, globs, `a:b`, `a,b`,
    /// `a:!b`, `a:&b`, `~regex`, `group[0]`, `group[1:3]`. (`@retryfile` is the engine's.)
    pub fn hosts_matching(&self, pattern: &str) -> Vec<String> {
        pattern::hosts_matching(self, pattern)
    }

    /// Add the implicit `localhost` (or `127.0.0.1`) as Ansible does: the local connection and the
    /// controller's Python. Nothing happens when the inventory has the host.
    pub fn add_implicit_localhost(&mut self, name: &str) {
        if self.hosts.contains_key(name) {
            return;
        }
        let mut vars = Map::new();
        vars.insert("ansible_connection".into(), Value::String("local".into()));
        vars.insert("ansible_python_interpreter".into(), Value::String("/usr/bin/python3".into()));
        self.hosts.insert(name.to_string(), Host { name: name.to_string(), vars, dir_vars: vec![] });
        self.implicit.push(name.to_string());
        self.index = OnceLock::new();
    }

    /// `group_names` for a host: sorted, without `all` (`ungrouped` is kept, as in Ansible).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self.groups_of(host).into_iter().filter(|g| g != "all").collect();
        names.sort();
        names
    }

    /// The `groups` magic variable: group name -> host names (hosts of child groups included).
    pub fn groups_var(&self) -> Map<String, Value> {
        self.groups.keys().map(|g| (g.clone(), Value::Array(self.group_hosts(g).into_iter().map(Value::String).collect()))).collect()
    }

    /// Inventory variables of a host with Ansible's precedence (see the module doc):
    /// all < parent groups < child groups < host, and group_vars/host_vars files above inventory-file vars.
    pub fn host_vars(&self, host: &str) -> Map<String, Value> {
        let mut out = Map::new();
        let groups = self.sorted_groups_of(host);
        for g in &groups {
            extend(&mut out, &self.groups[g].vars);
        }
        // group_vars/all from each directory, then every other group per directory (Ansible's order)
        for layer in 0..self.vars_dirs_loaded {
            if let Some(all) = self.groups.get("all") {
                for (l, m) in &all.dir_vars {
                    if *l == layer {
                        extend(&mut out, m);
                    }
                }
            }
        }
        for layer in 0..self.vars_dirs_loaded {
            for g in groups.iter().filter(|g| *g != "all") {
                for (l, m) in &self.groups[g].dir_vars {
                    if *l == layer {
                        extend(&mut out, m);
                    }
                }
            }
        }
        if let Some(h) = self.hosts.get(host) {
            extend(&mut out, &h.vars);
            for (_, m) in &h.dir_vars {
                extend(&mut out, m);
            }
        }
        out
    }

    /// Every group a host is in, directly or through child groups, including `all`.
    pub fn groups_of(&self, host: &str) -> Vec<String> {
        if !self.hosts.contains_key(host) {
            return Vec::new();
        }
        let idx = self.index();
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = idx.direct_groups.get(host).map(|g| g.iter().map(String::as_str).collect()).unwrap_or_default();
        stack.push("all");
        while let Some(g) = stack.pop() {
            if !seen.insert(g) {
                continue;
            }
            if let Some(ps) = idx.parents.get(g) {
                stack.extend(ps.iter().map(String::as_str));
            }
            out.push(g.to_string());
        }
        out
    }

    /// Groups of a host in Ansible's variable order: by depth, then name.
    fn sorted_groups_of(&self, host: &str) -> Vec<String> {
        let mut gs = self.groups_of(host);
        gs.sort_by(|a, b| self.depth(a).cmp(&self.depth(b)).then_with(|| a.cmp(b)));
        gs
    }

    /// Longest distance from `all` (Ansible's group depth).
    pub fn depth(&self, group: &str) -> usize {
        if group == "all" {
            return 0;
        }
        self.index().depth.get(group).copied().unwrap_or(1)
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut idx = Index::default();
            for g in self.groups.values() {
                for h in &g.hosts {
                    idx.direct_groups.entry(h.clone()).or_default().push(g.name.clone());
                }
                for c in &g.children {
                    idx.parents.entry(c.clone()).or_default().push(g.name.clone());
                }
            }
            // depth = longest path from `all`, found by relaxing over the DAG (cycles are cut off)
            let names: Vec<&String> = self.groups.keys().collect();
            let mut depth: HashMap<String, usize> = names.iter().map(|n| ((*n).clone(), if *n == "all" { 0 } else { 1 })).collect();
            for _ in 0..names.len().min(64) {
                let mut changed = false;
                for g in self.groups.values() {
                    let d = depth.get(&g.name).copied().unwrap_or(0);
                    for c in &g.children {
                        if c != "all" && depth.get(c).copied().unwrap_or(0) < d + 1 {
                            depth.insert(c.clone(), d + 1);
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            idx.depth = depth;
            idx
        })
    }

    /// Hosts of a group and its descendants, in inventory order, without duplicates.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        if group == "all" {
            return self.hosts.keys().filter(|h| !self.implicit.contains(h)).cloned().collect();
        }
        let mut out = Vec::new();
        self.collect_hosts(group, &mut out, &mut HashSet::new(), &mut HashSet::new());
        out
    }

    fn collect_hosts<'a>(&'a self, group: &'a str, out: &mut Vec<String>, seen_hosts: &mut HashSet<&'a str>, seen: &mut HashSet<&'a str>) {
        if !seen.insert(group) {
            return;
        }
        if let Some(g) = self.groups.get(group) {
            for h in &g.hosts {
                if seen_hosts.insert(h) {
                    out.push(h.clone());
                }
            }
            for c in &g.children {
                self.collect_hosts(c, out, seen_hosts, seen);
            }
        }
    }

    /// The group `name`, created empty if missing (also used by `add_host`/`group_by` at run time).
    pub fn ensure_group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_insert_with(|| Group { name: name.to_string(), ..Default::default() })
    }

    pub(crate) fn ensure_host(&mut self, name: &str) -> &mut Host {
        self.hosts.entry(name.to_string()).or_insert_with(|| Host { name: name.to_string(), ..Default::default() })
    }

    /// Duplicates are removed by [`Self::finish`] (a linear pass instead of a search per host).
    pub(crate) fn add_host_to_group(&mut self, host: &str, group: &str) {
        self.ensure_host(host);
        self.ensure_group(group).hosts.push(host.to_string());
        self.index = OnceLock::new();
    }

    pub(crate) fn add_child(&mut self, parent: &str, child: &str) {
        self.index = OnceLock::new();
        self.ensure_group(child);
        let p = self.ensure_group(parent);
        if !p.children.iter().any(|c| c == child) {
            p.children.push(child.to_string());
        }
    }

    /// Ansible's reconcile step: top-level groups become children of `all`, hosts in no group go
    /// to `ungrouped`; duplicate memberships are dropped (first position kept).
    fn finish(&mut self) {
        self.index = OnceLock::new();
        for g in self.groups.values_mut() {
            let mut seen = HashSet::new();
            g.hosts.retain(|h| seen.insert(h.clone()));
        }
        let has_parent: HashSet<String> = self.groups.values().filter(|p| p.name != "all").flat_map(|p| p.children.iter().cloned()).collect();
        let names: Vec<String> = self.groups.keys().filter(|n| *n != "all" && !has_parent.contains(*n)).cloned().collect();
        for n in &names {
            self.add_child("all", n);
        }
        let grouped: HashSet<String> = self.groups.values().filter(|g| g.name != "all" && g.name != "ungrouped").flat_map(|g| g.hosts.iter().cloned()).collect();
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        let ug = self.ensure_group("ungrouped");
        ug.hosts.retain(|h| !grouped.contains(h));
        let mut in_ug: HashSet<String> = ug.hosts.iter().cloned().collect();
        for h in hosts {
            if !grouped.contains(&h) && in_ug.insert(h.clone()) {
                ug.hosts.push(h);
            }
        }
        self.index = OnceLock::new();
    }
}

fn extend(out: &mut Map<String, Value>, m: &Map<String, Value>) {
    for (k, v) in m {
        out.insert(k.clone(), v.clone());
    }
}

/// Files of an inventory directory, in name order, skipping what Ansible skips
/// (hidden files, group_vars/host_vars, and INVENTORY_IGNORE_EXTS).
fn inventory_dir_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, ConfigError> {
    const IGNORE: [&str; 13] = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"];
    let rd = std::fs::read_dir(dir).map_err(|e| ConfigError::at(dir, 0, 0, format!("cannot read inventory directory: {e}")))?;
    let mut out: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && name != "group_vars" && name != "host_vars" && !IGNORE.iter().any(|x| name.ends_with(x))
        })
        .collect();
    out.sort();
    Ok(out)
}
