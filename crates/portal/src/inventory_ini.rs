//! Ansible INI inventory from the portal's VM list, in the shape mdxcsv2inventory.py produces
//! (so playbooks written against that layout keep working): `[all:vars]` with the network prefixes,
//! a default group of every VM, then the user's groups. Host lines carry `hostname`, `ethipv4`,
//! `rdmaipv4` and `ethipv6`, which the roles use to build /etc/hosts, exports and proxy configs.
use crate::vm_csv::Vm;
use regex::Regex;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// mdx gives every project a /21 on the service and storage networks and a /64 for IPv6.
pub const ETH_V4_PREFIX_LEN: u8 = 21;
pub const RDMA_V4_PREFIX_LEN: u8 = 21;
pub const ETH_V6_PREFIX_LEN: u8 = 64;

#[derive(Debug, Clone)]
pub struct RegexGroup {
    pub group: String,
    pub pattern: String,
    pub regex: Regex,
}

/// How hosts are named in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum HostNames {
    /// By VM name, with `ansible_host=<address>` (default: names stay when addresses change, read
    /// well in the recap, and match `--limit`/group patterns written with VM names)
    #[default]
    Name,
    /// By service address, as mdxcsv2inventory.py writes them (mdxpasswdinit.py expects this)
    Address,
}

#[derive(Debug, Clone)]
pub struct InventoryOptions {
    pub host_names: HostNames,
    /// Write each VM's `ethipv6` (mdxcsv2inventory.py's --enable-ethipv6)
    pub enable_ethipv6: bool,
    /// Prefer the IPv6 service address for `ansible_host`
    pub use_ipv6: bool,
    pub ansible_user: String,
    pub default_group: String,
    /// `-g GROUP REGEXP`: VMs whose name matches
    pub group_regexp: Vec<RegexGroup>,
    /// `-gv GROUP REGEXP`: VMs whose name does not match
    pub group_regexp_invert: Vec<RegexGroup>,
    /// `--group-with GROUP VM...`
    pub group_with: Vec<(String, Vec<String>)>,
    /// `--group-without GROUP VM...`
    pub group_without: Vec<(String, Vec<String>)>,
    /// `--group-var GROUP KEY=VALUE`: written as `[GROUP:vars]`
    pub group_vars: Vec<(String, String, String)>,
    pub per_node_groups: bool,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            host_names: HostNames::Name,
            enable_ethipv6: false,
            use_ipv6: false,
            ansible_user: "mdxuser".into(),
            default_group: "default".into(),
            group_regexp: vec![],
            group_regexp_invert: vec![],
            group_with: vec![],
            group_without: vec![],
            group_vars: vec![],
            per_node_groups: false,
        }
    }
}

pub fn v4_network(a: Ipv4Addr, len: u8) -> (Ipv4Addr, u8) {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len as u32) };
    (Ipv4Addr::from(u32::from(a) & mask), len)
}

pub fn v6_network(a: Ipv6Addr, len: u8) -> (Ipv6Addr, u8) {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len as u32) };
    (Ipv6Addr::from(u128::from(a) & mask), len)
}

/// The host line for one VM, or a comment when the VM has no service address to reach it by.
/// By address, the line is laid out as mdxcsv2inventory.py lays it out (addresses padded to 15).
pub fn host_line(vm: &Vm, opts: &InventoryOptions) -> String {
    let v4 = vm.eth_v4.map(|a| a.to_string());
    let v6 = vm.eth_v6.map(|a| a.to_string());
    let addr = if opts.use_ipv6 { v6.clone().or(v4.clone()) } else { v4.clone().or(v6.clone()) };
    let Some(addr) = addr else {
        return format!("# !! no service address available for {}", vm.name);
    };
    let by_address = opts.host_names == HostNames::Address;
    let pad = |a: &str| if by_address { format!("{a:<15}") } else { a.to_string() };
    let mut out = if by_address { format!("{addr:<15} hostname={}", vm.name) } else { format!("{} ansible_host={} hostname={}", vm.name, addr, vm.name) };
    if let Some(a) = &v4 {
        let _ = write!(out, " ethipv4={}", pad(a));
    }
    if let Some(a) = vm.rdma_v4 {
        let _ = write!(out, " rdmaipv4={}", pad(&a.to_string()));
    }
    if let (Some(a), true) = (&v6, opts.enable_ethipv6) {
        let _ = write!(out, " ethipv6={}", pad(a));
    }
    out
}

/// Render the whole inventory. VMs are sorted by name, as the portal's order is not stable.
pub fn render_inventory(vms: &[Vm], opts: &InventoryOptions) -> String {
    let mut vms: Vec<&Vm> = vms.iter().collect();
    vms.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    let w = &mut out;

    let _ = writeln!(w, "[all:vars]");
    let _ = writeln!(w, "ansible_user={}", opts.ansible_user);
    // where Ansible's modules unpack on the VMs (mdxuser's home may be on NFS)
    let _ = writeln!(w, "ansible_remote_tmp=/tmp/.ansible");
    match vms.iter().find_map(|v| v.eth_v4) {
        Some(a) => {
            let (n, l) = v4_network(a, ETH_V4_PREFIX_LEN);
            let _ = writeln!(w, "ethipv4prefix={n}/{l}");
        }
        None => {
            let _ = writeln!(w, "# no valid IPv4 prefix for Ethernet network found");
        }
    }
    match vms.iter().find_map(|v| v.rdma_v4) {
        Some(a) => {
            let (n, l) = v4_network(a, RDMA_V4_PREFIX_LEN);
            let _ = writeln!(w, "rdmaipv4prefix={n}/{l}");
        }
        None => {
            let _ = writeln!(w, "# no valid IPv4 prefix for RDMA network found");
        }
    }
    // the project's /64 comes from a global address: a link-local one (kept by --enable-linklocal) says nothing
    match vms.iter().filter_map(|v| v.eth_v6).find(|a| !crate::vm_csv::is_link_local(a)) {
        Some(a) => {
            let (n, l) = v6_network(a, ETH_V6_PREFIX_LEN);
            let _ = writeln!(w, "ethipv6prefix={n}/{l}");
        }
        None => {
            let _ = writeln!(w, "# no valid IPv6 prefix for Ethernet network found");
        }
    }
    let _ = writeln!(w);

    let section = |w: &mut String, header: &str, comment: Option<String>, members: &mut dyn Iterator<Item = &&Vm>| {
        let _ = writeln!(w, "[{header}]");
        if let Some(c) = comment {
            let _ = writeln!(w, "# {c}");
        }
        for vm in members {
            let _ = writeln!(w, "{}", host_line(vm, opts));
        }
        let _ = writeln!(w);
    };

    section(w, &opts.default_group, None, &mut vms.iter());
    for (group, names) in &opts.group_with {
        section(w, group, Some(format!("group with {}", names.join(" "))), &mut vms.iter().filter(|v| names.contains(&v.name)));
    }
    for (group, names) in &opts.group_without {
        section(w, group, Some(format!("group without {}", names.join(" "))), &mut vms.iter().filter(|v| !names.contains(&v.name)));
    }
    for g in &opts.group_regexp {
        section(w, &g.group, Some(format!("group with regexp '{}'", g.pattern)), &mut vms.iter().filter(|v| g.regex.is_match(&v.name)));
    }
    for g in &opts.group_regexp_invert {
        section(w, &g.group, Some(format!("group without regexp '{}'", g.pattern)), &mut vms.iter().filter(|v| !g.regex.is_match(&v.name)));
    }
    if opts.per_node_groups {
        for vm in vms.iter().filter(|v| v.eth_v4.is_some()) {
            section(w, &vm.name, None, &mut std::iter::once(vm));
        }
    }
    // Group vars last, one section per group in first-mention order.
    let mut seen: Vec<&str> = Vec::new();
    for (g, _, _) in &opts.group_vars {
        if !seen.contains(&g.as_str()) {
            seen.push(g);
        }
    }
    for g in seen {
        let _ = writeln!(w, "[{g}:vars]");
        for (_, k, v) in opts.group_vars.iter().filter(|(gg, _, _)| gg == g) {
            let _ = writeln!(w, "{k}={v}");
        }
        let _ = writeln!(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(v4_network("10.13.204.7".parse().unwrap(), 21), ("10.13.200.0".parse().unwrap(), 21));
        assert_eq!(v4_network("172.17.15.255".parse().unwrap(), 21), ("172.17.8.0".parse().unwrap(), 21));
        assert_eq!(v6_network("2001:2f8:1041:21c:250:56ff:fe01:8f2".parse().unwrap(), 64), ("2001:2f8:1041:21c::".parse().unwrap(), 64));
    }
}
