//! The executor's hosts: one slot per inventory host, found by index or name, with `--limit`, and the
//! hosts `add_host` creates during a batch (they get a slot when the next batch starts).
use super::host::HostSlot;
use mdxconf_config::inventory::Inventory;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

pub struct HostTable {
    slots: Vec<HostSlot>,
    by_name: HashMap<String, usize>,
    /// Created by `add_host`, no slot yet.
    pending: Mutex<Vec<String>>,
    /// `--limit` (None: all hosts)
    limit: Option<HashSet<String>>,
}

fn group_names(inv: &Inventory, name: &str) -> Value {
    Value::Array(inv.group_names(name).into_iter().map(Value::String).collect())
}

impl HostTable {
    /// A slot for every inventory host, in inventory order.
    pub fn new(inv: &Inventory, limit: Option<HashSet<String>>) -> Self {
        let mut t = HostTable { slots: Vec::new(), by_name: HashMap::new(), pending: Mutex::new(Vec::new()), limit };
        for name in inv.hosts.keys() {
            t.push(inv, name);
        }
        t
    }

    fn push(&mut self, inv: &Inventory, name: &str) {
        self.by_name.insert(name.to_string(), self.slots.len());
        self.slots.push(HostSlot::new(name.to_string(), inv.host_vars(name), group_names(inv, name)));
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, HostSlot> {
        self.slots.iter()
    }

    /// Inside `--limit` (always, without one).
    pub fn in_limit(&self, name: &str) -> bool {
        self.limit.as_ref().is_none_or(|l| l.contains(name))
    }

    /// Remember a host `add_host` created; it gets its slot at the next batch.
    pub fn add_pending(&self, name: &str) {
        if self.by_name.contains_key(name) {
            return;
        }
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if !p.iter().any(|n| n == name) {
            p.push(name.to_string());
        }
    }

    /// Hosts created by `add_host` in this batch (no slot yet).
    pub fn pending(&self) -> Vec<String> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Give the pending hosts their slots (between batches: the host list only grows).
    pub fn admit_pending(&mut self, inv: &Inventory) {
        let pending = std::mem::take(self.pending.get_mut().unwrap_or_else(|p| p.into_inner()));
        for name in pending {
            if !self.by_name.contains_key(&name) && inv.hosts.contains_key(&name) {
                self.push(inv, &name);
            }
        }
    }

    /// Refresh a host's group_names and inventory variables after the inventory changed.
    pub fn refresh(&self, inv: &Inventory, name: &str) {
        if let Some(i) = self.find(name) {
            let mut st = self.slots[i].lock();
            st.group_names = group_names(inv, name);
            st.inventory_vars = inv.host_vars(name);
        }
    }
}

impl std::ops::Index<usize> for HostTable {
    type Output = HostSlot;
    fn index(&self, h: usize) -> &HostSlot {
        &self.slots[h]
    }
}

impl<'a> IntoIterator for &'a HostTable {
    type Item = &'a HostSlot;
    type IntoIter = std::slice::Iter<'a, HostSlot>;
    fn into_iter(self) -> Self::IntoIter {
        self.slots.iter()
    }
}
