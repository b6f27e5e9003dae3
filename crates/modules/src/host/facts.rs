//! Facts in ONE exec (os-release, uname, hostname, default route, addresses, memory, CPUs, init, package
//! manager): the probe script [`SCRIPT`] and its pure parser [`facts_from`] giving `ansible_*` keys.
use crate::util::kv;
use serde_json::{json, Map, Value};

pub const SCRIPT: &str = r#"
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=$ID"; echo "os_version_id=$VERSION_ID"; echo "os_codename=${VERSION_CODENAME:-$UBUNTU_CODENAME}"
echo "os_name=$NAME"; echo "os_pretty=$PRETTY_NAME"; echo "os_like=$ID_LIKE"
[ -r /etc/debian_version ] && echo "debian_version=$(cat /etc/debian_version)"
echo "kernel=$(uname -r)"; echo "kernel_version=$(uname -v)"; echo "arch=$(uname -m)"; echo "nodename=$(uname -n)"
echo "hostname=$(hostname -s 2>/dev/null || uname -n)"; echo "fqdn=$(hostname -f 2>/dev/null || uname -n)"
echo "route=$(ip -4 route get 1.0.0.1 2>/dev/null | head -1)"
echo "gw=$(ip -4 route show default 2>/dev/null | head -1)"
ip -4 -o addr show 2>/dev/null | awk '{print "addr=" $2 " " $4}'
ip -o link show 2>/dev/null | awk -F': ' '{print "link=" $2}'
awk '/^MemTotal:/{print "memtotal_kb=" $2} /^MemFree:/{print "memfree_kb=" $2} /^SwapTotal:/{print "swaptotal_kb=" $2}' /proc/meminfo 2>/dev/null
echo "vcpus=$(nproc --all 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo systemd=1
for m in apt-get dnf yum zypper apk pacman; do if command -v $m >/dev/null 2>&1; then echo "pkg=$m"; break; fi; done
echo "user_id=$(id -un)"; echo "user_uid=$(id -u)"; echo "user_gid=$(id -g)"; echo "user_dir=$HOME"
echo "epoch=$(date +%s)"; echo "iso8601=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "tz=$(date +%Z)"
echo "python=$(command -v python3 2>/dev/null)"
echo "virt=$(systemd-detect-virt 2>/dev/null)"
"#;

fn distribution(id: &str, name: &str) -> String {
    match id {
        "ubuntu" => "Ubuntu",
        "debian" => "Debian",
        "rocky" => "Rocky",
        "almalinux" => "AlmaLinux",
        "centos" => "CentOS",
        "rhel" => "RedHat",
        "fedora" => "Fedora",
        "ol" => "OracleLinux",
        "opensuse-leap" | "opensuse" => "openSUSE Leap",
        "sles" => "SLES",
        "arch" => "Archlinux",
        "alpine" => "Alpine",
        "linuxmint" => "Linux Mint",
        _ => return name.split_whitespace().next().unwrap_or(id).to_string(),
    }
    .to_string()
}

fn os_family(id: &str, like: &str) -> String {
    let fam = |x: &str| match x {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "pop" => Some("Debian"),
        "rhel" | "centos" | "rocky" | "almalinux" | "fedora" | "ol" | "amzn" => Some("RedHat"),
        "sles" | "opensuse" | "opensuse-leap" | "suse" => Some("Suse"),
        "arch" | "manjaro" => Some("Archlinux"),
        "alpine" => Some("Alpine"),
        _ => None,
    };
    fam(id).or_else(|| like.split_whitespace().find_map(fam)).map(str::to_string).unwrap_or_else(|| id.to_string())
}

fn word_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let mut it = s.split_whitespace();
    while let Some(w) = it.next() {
        if w == key {
            return it.next();
        }
    }
    None
}

/// "10.1.2.3/21" -> (address, netmask, network, prefix)
fn cidr(s: &str) -> Option<(String, String, String, u32)> {
    let (a, p) = s.split_once('/')?;
    let ip: std::net::Ipv4Addr = a.parse().ok()?;
    let prefix: u32 = p.parse().ok()?;
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix.min(32)) };
    let net = u32::from(ip) & mask;
    Some((a.to_string(), std::net::Ipv4Addr::from(mask).to_string(), std::net::Ipv4Addr::from(net).to_string(), prefix))
}

pub fn facts_from(out: &str) -> Map<String, Value> {
    let kv = kv(out);
    let g = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let id = g("os_id");
    let mut version = g("os_version_id");
    if id == "debian" {
        let dv = g("debian_version");
        if dv.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            version = dv;
        }
    }
    let major = version.split('.').next().unwrap_or("").to_string();
    let addrs: Vec<(String, String)> = out.lines().filter_map(|l| l.strip_prefix("addr=")).filter_map(|l| l.split_once(' ')).map(|(i, a)| (i.to_string(), a.to_string())).collect();
    let route = g("route");
    let iface = word_after(&route, "dev").unwrap_or("").to_string();
    let src = word_after(&route, "src").unwrap_or("").to_string();
    let gw_line = g("gw");
    let gw = word_after(&route, "via").or_else(|| word_after(&gw_line, "via")).unwrap_or("").to_string();
    let mut default_ipv4 = json!({});
    if !iface.is_empty() {
        default_ipv4 = json!({"address": src, "interface": iface, "gateway": gw, "alias": iface});
        if let Some((_, mask, net, prefix)) = addrs.iter().filter(|(i, a)| *i == iface && a.starts_with(&format!("{src}/"))).find_map(|(_, a)| cidr(a)) {
            default_ipv4["netmask"] = mask.into();
            default_ipv4["network"] = net.into();
            default_ipv4["prefix"] = prefix.to_string().into();
        }
    }
    let mb = |k: &str| g(k).parse::<u64>().map(|v| v / 1024).unwrap_or(0);
    let svc = if kv.contains_key("systemd") { "systemd".to_string() } else { g("pid1") };
    let pkg = match g("pkg").as_str() {
        "apt-get" => "apt".to_string(),
        p => p.to_string(),
    };
    let mut f = Map::new();
    let mut put = |k: &str, v: Value| {
        f.insert(format!("ansible_{k}"), v);
    };
    put("distribution", distribution(&id, &g("os_name")).into());
    put("distribution_version", version.clone().into());
    put("distribution_major_version", major.clone().into());
    put("distribution_release", g("os_codename").into());
    put("os_family", os_family(&id, &g("os_like")).into());
    put("lsb", json!({"id": distribution(&id, &g("os_name")), "release": version, "major_release": major, "codename": g("os_codename"), "description": g("os_pretty")}));
    put("system", "Linux".into());
    put("kernel", g("kernel").into());
    put("kernel_version", g("kernel_version").into());
    put("architecture", g("arch").into());
    put("machine", g("arch").into());
    put("hostname", g("hostname").into());
    put("nodename", g("nodename").into());
    put("fqdn", g("fqdn").into());
    put("domain", g("fqdn").split_once('.').map(|(_, d)| d.to_string()).unwrap_or_default().into());
    put("default_ipv4", default_ipv4);
    put("all_ipv4_addresses", addrs.iter().filter(|(_, a)| !a.starts_with("127.")).map(|(_, a)| Value::from(a.split('/').next().unwrap_or(""))).collect::<Vec<_>>().into());
    let links: Vec<String> = out.lines().filter_map(|l| l.strip_prefix("link=")).map(|l| l.split('@').next().unwrap_or(l).to_string()).collect();
    put("interfaces", links.iter().map(|l| Value::from(l.clone())).collect::<Vec<_>>().into());
    for l in &links {
        let mut v = json!({"device": l, "active": true});
        if let Some((a, mask, net, prefix)) = addrs.iter().find(|(i, _)| i == l).and_then(|(_, a)| cidr(a)) {
            v["ipv4"] = json!({"address": a, "netmask": mask, "network": net, "prefix": prefix.to_string()});
        }
        put(&l.replace(['-', '.', ':'], "_"), v);
    }
    put("memtotal_mb", mb("memtotal_kb").into());
    put("memfree_mb", mb("memfree_kb").into());
    put("swaptotal_mb", mb("swaptotal_kb").into());
    let vcpus = g("vcpus").parse::<u64>().unwrap_or(1);
    put("processor_vcpus", vcpus.into());
    put("processor_nproc", vcpus.into());
    put("processor_count", vcpus.into());
    put("service_mgr", svc.into());
    put("pkg_mgr", pkg.into());
    put("user_id", g("user_id").into());
    put("user_uid", g("user_uid").parse::<u64>().map(Value::from).unwrap_or(Value::Null));
    put("user_gid", g("user_gid").parse::<u64>().map(Value::from).unwrap_or(Value::Null));
    put("user_dir", g("user_dir").into());
    put("date_time", json!({"epoch": g("epoch"), "iso8601": g("iso8601"), "tz": g("tz"), "date": g("iso8601").get(..10).unwrap_or("")}));
    put("python", json!({"executable": g("python")}));
    put("virtualization_type", g("virt").into());
    f
}

pub fn glob_match(pat: &str, s: &str) -> bool {
    match pat.split_once('*') {
        None => pat == s,
        Some((pre, rest)) => s.starts_with(pre) && (rest.is_empty() || (0..=s.len() - pre.len()).any(|i| glob_match(rest, &s[pre.len() + i..]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_facts() {
        let out = "os_id=ubuntu\nos_version_id=22.04\nos_codename=jammy\nos_name=Ubuntu\nroute=1.0.0.1 via 10.0.0.1 dev ens160 src 10.0.3.7 uid 0\naddr=lo 127.0.0.1/8\naddr=ens160 10.0.3.7/21\nlink=lo\nlink=ens160\nmemtotal_kb=2048000\nvcpus=4\nsystemd=1\npkg=apt-get\n";
        let f = facts_from(out);
        assert_eq!(f["ansible_distribution"], "Ubuntu");
        assert_eq!(f["ansible_os_family"], "Debian");
        assert_eq!(f["ansible_distribution_major_version"], "22");
        assert_eq!(f["ansible_default_ipv4"]["address"], "10.0.3.7");
        assert_eq!(f["ansible_default_ipv4"]["interface"], "ens160");
        assert_eq!(f["ansible_default_ipv4"]["netmask"], "255.255.248.0");
        assert_eq!(f["ansible_all_ipv4_addresses"], json!(["10.0.3.7"]));
        assert_eq!(f["ansible_ens160"]["ipv4"]["network"], "10.0.0.0");
        assert_eq!(f["ansible_memtotal_mb"], 2000);
        assert_eq!(f["ansible_service_mgr"], "systemd");
        assert_eq!(f["ansible_pkg_mgr"], "apt");
        assert!(glob_match("ansible_distribution*", "ansible_distribution_version"));
        assert!(!glob_match("ansible_d*n", "ansible_default_ipv4"));
    }
}
