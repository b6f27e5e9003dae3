//! ipaddr-style filters (ansible.utils.ipaddr / ipv4 / ipv6 / ipmath / ipsubnet) for IPv4 and IPv6.
//! A query that does not apply (e.g. `network` of a single address) gives `False`, like Ansible.
use super::{invalid, text_of};
use minijinja::value::ValueKind;
use minijinja::{Error, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address with its prefix length (`/32` or `/128` when none was given).
#[derive(Clone, Copy, Debug)]
struct Net {
    ip: u128,
    prefix: u32,
    v6: bool,
}

impl Net {
    fn bits(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }
    fn mask(&self) -> u128 {
        let host_bits = self.bits() - self.prefix;
        let all = if self.v6 { u128::MAX } else { u32::MAX as u128 };
        if host_bits >= 128 {
            0
        } else {
            all & !((1u128 << host_bits) - 1)
        }
    }
    fn hostmask(&self) -> u128 {
        let all = if self.v6 { u128::MAX } else { u32::MAX as u128 };
        all & !self.mask()
    }
    fn network(&self) -> u128 {
        self.ip & self.mask()
    }
    fn broadcast(&self) -> u128 {
        self.network() | self.hostmask()
    }
    fn size(&self) -> u128 {
        let host_bits = self.bits() - self.prefix;
        if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        }
    }
    fn fmt(&self, n: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(n).to_string()
        } else {
            Ipv4Addr::from(n as u32).to_string()
        }
    }
    fn is_private(&self) -> bool {
        match addr(self) {
            IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local() || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64),
            IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00 || (a.segments()[0] & 0xffc0) == 0xfe80,
        }
    }
}

fn addr(n: &Net) -> IpAddr {
    if n.v6 {
        IpAddr::V6(Ipv6Addr::from(n.ip))
    } else {
        IpAddr::V4(Ipv4Addr::from(n.ip as u32))
    }
}

fn parse(s: &str) -> Option<Net> {
    let s = s.trim();
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = a.parse().ok()?;
    let (v, v6) = match ip {
        IpAddr::V4(x) => (u32::from(x) as u128, false),
        IpAddr::V6(x) => (u128::from(x), true),
    };
    let bits = if v6 { 128 } else { 32 };
    let prefix = match p {
        None => bits,
        Some(p) if p.chars().all(|c| c.is_ascii_digit()) => p.parse::<u32>().ok().filter(|n| *n <= bits)?,
        // netmask form: 10.0.0.0/255.255.248.0
        Some(p) if !v6 => {
            let m = u32::from(p.parse::<Ipv4Addr>().ok()?);
            let ones = m.leading_ones();
            if m.checked_shl(ones).unwrap_or(0) != 0 {
                return None;
            }
            ones
        }
        _ => return None,
    };
    Some(Net { ip: v, prefix, v6 })
}

fn false_v() -> Value {
    Value::from(false)
}

fn none_v() -> Value {
    Value::from(())
}

fn query(n: &Net, q: &Value) -> Result<Value, Error> {
    if q.is_none() || q.is_undefined() || q.as_str() == Some("") {
        return Ok(Value::from(if n.prefix == n.bits() { n.fmt(n.ip) } else { format!("{}/{}", n.fmt(n.ip), n.prefix) }));
    }
    if let Some(i) = q.as_i64() {
        // nth address of the network, keeping the prefix
        let size = n.size() as i128;
        let idx = if i < 0 { size + i as i128 } else { i as i128 };
        if idx < 0 || idx >= size {
            return Ok(false_v());
        }
        return Ok(Value::from(format!("{}/{}", n.fmt(n.network() + idx as u128), n.prefix)));
    }
    let q = text_of(q);
    let single = n.size() == 1;
    let on_network = n.ip == n.network();
    let with_prefix = |ip: u128| format!("{}/{}", n.fmt(ip), n.prefix);
    // as ansible.utils: a query that does not apply gives None (prints nothing), some give False
    let v = match q.as_str() {
        "address" if single || !on_network => Value::from(n.fmt(n.ip)),
        "address" => none_v(),
        "network" if single => Value::from(n.fmt(n.ip)),
        "network" => Value::from(n.fmt(n.network())),
        "prefix" => Value::from(n.prefix),
        "netmask" => Value::from(n.fmt(n.mask())),
        "hostmask" => Value::from(n.fmt(n.hostmask())),
        "broadcast" if n.size() > 2 => Value::from(n.fmt(n.broadcast())),
        "broadcast" => none_v(),
        "network/prefix" | "net/prefix" | "subnet" | "cidr" => Value::from(with_prefix(n.network())),
        "host" if single || !on_network => Value::from(with_prefix(n.ip)),
        "host" => none_v(),
        "host/prefix" | "address/prefix" if single || !on_network => Value::from(with_prefix(n.ip)),
        "host/prefix" | "address/prefix" => false_v(),
        "net" if on_network && !single => Value::from(with_prefix(n.ip)),
        "net" => none_v(),
        "size" => Value::from(n.size() as u64),
        "int" if n.prefix == n.bits() => Value::from(n.ip as u64),
        "int" => Value::from(format!("{}/{}", n.ip, n.prefix)),
        "version" => Value::from(if n.v6 { 6 } else { 4 }),
        "ipv4" if !n.v6 => Value::from(original(n)),
        "ipv6" if n.v6 => Value::from(original(n)),
        "ipv4" | "ipv6" => false_v(),
        "first_usable" if n.size() > 2 => Value::from(n.fmt(n.network() + 1)),
        "first_usable" if n.size() == 2 => Value::from(n.fmt(n.network())),
        "last_usable" if n.size() > 2 => Value::from(n.fmt(n.broadcast() - 1)),
        "last_usable" if n.size() == 2 => Value::from(n.fmt(n.broadcast())),
        "first_usable" | "last_usable" => none_v(),
        "public" if !n.is_private() => Value::from(original(n)),
        "private" if n.is_private() => Value::from(original(n)),
        "public" | "private" => none_v(),
        "bool" => Value::from(true),
        other => {
            return Err(invalid(format!(
                "ipaddr: unknown query '{other}' (address, network, prefix, netmask, hostmask, broadcast, network/prefix, subnet, host, host/prefix, net, size, int, version, first_usable, last_usable, public, private, or an index)"
            )))
        }
    };
    Ok(v)
}

fn original(n: &Net) -> String {
    if n.prefix == n.bits() {
        n.fmt(n.ip)
    } else {
        format!("{}/{}", n.fmt(n.ip), n.prefix)
    }
}

/// Apply to one value or to each item of a list (dropping those that give False).
fn apply(v: &Value, q: &Value, version: Option<bool>) -> Result<Value, Error> {
    if v.kind() == ValueKind::Seq {
        let mut out = Vec::new();
        for item in v.try_iter()? {
            let r = apply(&item, q, version)?;
            if !r.is_none() && (r.kind() != ValueKind::Bool || r.is_true()) {
                out.push(r);
            }
        }
        return Ok(Value::from(out));
    }
    let s = text_of(v);
    // a bare integer is an IPv4 address (ansible.utils accepts it too)
    let parsed = parse(&s).or_else(|| s.parse::<u32>().ok().map(|i| Net { ip: i as u128, prefix: 32, v6: false }));
    match parsed {
        Some(n) if version.is_none_or(|six| six == n.v6) => query(&n, q),
        _ => Ok(false_v()),
    }
}

pub fn ipaddr(v: Value, q: Option<Value>) -> Result<Value, Error> {
    apply(&v, &q.unwrap_or(Value::from(())), None)
}

pub fn ipv4(v: Value, q: Option<Value>) -> Result<Value, Error> {
    apply(&v, &q.unwrap_or(Value::from(())), Some(false))
}

pub fn ipv6(v: Value, q: Option<Value>) -> Result<Value, Error> {
    apply(&v, &q.unwrap_or(Value::from(())), Some(true))
}

/// `'10.0.0.1' | ipmath(5)` -> `10.0.0.6`.
pub fn ipmath(v: String, delta: i64) -> Result<String, Error> {
    let n = parse(&v).ok_or_else(|| invalid(format!("ipmath: '{v}' is not an IP address")))?;
    let max = if n.v6 { u128::MAX } else { u32::MAX as u128 };
    let r = if delta >= 0 { n.ip.checked_add(delta as u128) } else { n.ip.checked_sub(delta.unsigned_abs() as u128) };
    match r {
        Some(x) if x <= max => Ok(n.fmt(x)),
        _ => Err(invalid(format!("ipmath: {v} + {delta} is out of the address range"))),
    }
}

/// `'10.0.0.0/16' | ipsubnet(24)` -> number of /24s; `ipsubnet(24, 2)` -> the third /24.
pub fn ipsubnet(v: String, prefix: Option<u32>, index: Option<i64>) -> Result<Value, Error> {
    let n = parse(&v).ok_or_else(|| invalid(format!("ipsubnet: '{v}' is not a network")))?;
    let Some(p) = prefix else { return Ok(Value::from(format!("{}/{}", n.fmt(n.network()), n.prefix))) };
    if p < n.prefix || p > n.bits() {
        return Ok(false_v());
    }
    let count = 1u128 << (p - n.prefix).min(127);
    match index {
        None => Ok(Value::from(count.to_string())),
        Some(i) => {
            let idx = if i < 0 { count as i128 + i as i128 } else { i as i128 };
            if idx < 0 || idx as u128 >= count {
                return Ok(false_v());
            }
            let step = 1u128 << (n.bits() - p).min(127);
            Ok(Value::from(format!("{}/{}", n.fmt(n.network() + idx as u128 * step), p)))
        }
    }
}
