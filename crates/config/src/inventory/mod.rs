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

use crate::error::ConfigError;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::path::Path;

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
    pub fn load(path: &Path) -> Result<Inventory, ConfigError> {
        let mut inv = Inventory::empty();
        inv.add_source(path)?;
        inv.finish();
        let vars_dir = if path.is_dir() { path.to_path_buf() } else { path.parent().unwrap_or(Path::new(".")).to_path_buf() };
        inv.load_vars_dirs(&vars_dir)?;
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
        // No YAML extension: a YAML mapping is a YAML inventory, anything else is INI (as Ansible tries both).
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

    /// `group_names` for a host: sorted, without `all` (`ungrouped` is kept, as in Ansible).
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self.groups_of(host).into_iter().filter(|g| g != "all").collect();
        names.sort();
        names
    }

    /// The `groups` magic variable: group name -> host names (hosts of child groups included).
    pub fn groups_var(&self) -> Map<String, Value> {
        self.groups
            .keys()
            .map(|g| (g.clone(), Value::Array(self.group_hosts(g).into_iter().map(Value::String).collect())))
            .collect()
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
        let mut out: Vec<String> = Vec::new();
        if !self.hosts.contains_key(host) {
            return out;
        }
        let mut stack: Vec<String> =
            self.groups.values().filter(|g| g.hosts.iter().any(|h| h == host)).map(|g| g.name.clone()).collect();
        stack.push("all".into());
        while let Some(g) = stack.pop() {
            if out.contains(&g) {
                continue;
            }
            for parent in self.groups.values().filter(|p| p.children.contains(&g)) {
                stack.push(parent.name.clone());
            }
            out.push(g);
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
        fn walk(inv: &Inventory, g: &str, seen: &mut Vec<String>) -> usize {
            if g == "all" || seen.iter().any(|s| s == g) {
                return 0;
            }
            seen.push(g.to_string());
            let d = inv
                .groups
                .values()
                .filter(|p| p.children.iter().any(|c| c == g))
                .map(|p| walk(inv, &p.name, seen) + 1)
                .max()
                .unwrap_or(1);
            seen.pop();
            d
        }
        walk(self, group, &mut Vec::new())
    }

    /// Hosts of a group and its descendants, in inventory order, without duplicates.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        if group == "all" {
            return self.hosts.keys().cloned().collect();
        }
        let mut out = Vec::new();
        let mut seen_groups = Vec::new();
        self.collect_hosts(group, &mut out, &mut seen_groups);
        out
    }

    fn collect_hosts(&self, group: &str, out: &mut Vec<String>, seen: &mut Vec<String>) {
        if seen.iter().any(|s| s == group) {
            return;
        }
        seen.push(group.to_string());
        if let Some(g) = self.groups.get(group) {
            for h in &g.hosts {
                if !out.contains(h) {
                    out.push(h.clone());
                }
            }
            for c in &g.children {
                self.collect_hosts(c, out, seen);
            }
        }
    }

    pub(crate) fn ensure_group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_insert_with(|| Group { name: name.to_string(), ..Default::default() })
    }

    pub(crate) fn ensure_host(&mut self, name: &str) -> &mut Host {
        self.hosts.entry(name.to_string()).or_insert_with(|| Host { name: name.to_string(), ..Default::default() })
    }

    pub(crate) fn add_host_to_group(&mut self, host: &str, group: &str) {
        self.ensure_host(host);
        let g = self.ensure_group(group);
        if !g.hosts.iter().any(|h| h == host) {
            g.hosts.push(host.to_string());
        }
    }

    pub(crate) fn add_child(&mut self, parent: &str, child: &str) {
        self.ensure_group(child);
        let p = self.ensure_group(parent);
        if !p.children.iter().any(|c| c == child) {
            p.children.push(child.to_string());
        }
    }

    /// Ansible's reconcile step: top-level groups become children of `all`, hosts in no group go to `ungrouped`.
    fn finish(&mut self) {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for n in &names {
            if n == "all" {
                continue;
            }
            let has_parent = self.groups.values().any(|p| p.name != "all" && p.children.contains(n));
            if !has_parent {
                self.add_child("all", n);
            }
        }
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in hosts {
            let grouped = self.groups.values().any(|g| g.name != "all" && g.name != "ungrouped" && g.hosts.contains(&h));
            let ug = self.ensure_group("ungrouped");
            if grouped {
                ug.hosts.retain(|x| x != &h);
            } else if !ug.hosts.contains(&h) {
                ug.hosts.push(h);
            }
        }
        // `all` lists its hosts only through its children; direct membership is kept for `all:hosts:` in YAML
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
    const IGNORE: [&str; 13] =
        [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg", ".retry"];
    let rd = std::fs::read_dir(dir).map_err(|e| ConfigError::at(dir, 0, 0, format!("cannot read inventory directory: {e}")))?;
    let mut out: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.')
                && name != "group_vars"
                && name != "host_vars"
                && !IGNORE.iter().any(|x| name.ends_with(x))
        })
        .collect();
    out.sort();
    Ok(out)
}
