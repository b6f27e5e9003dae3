//! The mdx user portal's VM list export: UTF-8 CSV with a BOM, one row per VM.
//! Only the columns the inventory needs are interpreted; the rest are ignored (the portal adds columns over time).
use mdxconf_config::error::ConfigError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

pub const COL_NAME: &str = "VM_NAME";
pub const COL_ETH_V4: &str = "SERVICE_NET_1_IPv4";
pub const COL_ETH_V6: &str = "SERVICE_NET_1_IPv6";
pub const COL_RDMA_V4: &str = "STORAGE_NET_1_IPv4";

/// One VM as listed by the portal. Addresses are None when the portal left the cell empty
/// (or, for IPv6, when it is link-local and link-local addresses were not asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vm {
    pub name: String,
    /// 1-based line of the row in the CSV, for later messages
    pub line: usize,
    pub eth_v4: Option<Ipv4Addr>,
    pub eth_v6: Option<Ipv6Addr>,
    pub rdma_v4: Option<Ipv4Addr>,
}

/// Read and parse a portal CSV file. Every error names `file:line:col`.
pub fn read_vm_csv(path: &Path, enable_linklocal: bool) -> Result<Vec<Vm>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::at(path, 0, 0, format!("cannot read: {e}")))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.len() - good.iter().rposition(|b| *b == b'\n').map(|p| p + 1).unwrap_or(0) + 1;
            return Err(ConfigError::at(path, line, col, "not UTF-8 (the portal exports UTF-8 with BOM; re-save the file as UTF-8)"));
        }
    };
    parse_vm_csv(path, &text, enable_linklocal)
}

/// Why `name` is no safe host name (letters, digits, `-`, `_`, `.`; 1-253 characters; not starting
/// with `-` or `.`), None if it is one.
fn invalid_host_name(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("longer than 253 characters".into());
    }
    if name.starts_with(['-', '.']) {
        return Some("it starts with '-' or '.'".into());
    }
    name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).map(|c| format!("'{}' is not allowed (letters, digits, '-', '_', '.')", c.escape_default()))
}

/// Parse portal CSV text (`path` is only used in error messages).
pub fn parse_vm_csv(path: &Path, text: &str, enable_linklocal: bool) -> Result<Vec<Vm>, ConfigError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(body.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(path, body, &e))?.clone();
    let col_of = |name: &str| -> Result<usize, ConfigError> {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| ConfigError::at(path, 1, 1, format!("missing column {name} (header has: {})", headers.iter().collect::<Vec<_>>().join(", "))))
    };
    let (i_name, i_eth4, i_eth6, i_rdma4) = (col_of(COL_NAME)?, col_of(COL_ETH_V4)?, col_of(COL_ETH_V6)?, col_of(COL_RDMA_V4)?);

    let mut vms = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| csv_error(path, body, &e))?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue; // trailing blank rows from spreadsheet editors
        }
        let raw_line = body.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let at = |idx: usize, msg: String| ConfigError::at(path, line, field_column(raw_line, idx), msg);
        let name = rec.get(i_name).unwrap_or("").trim().to_string();
        if name.is_empty() {
            return Err(at(i_name, format!("empty {COL_NAME}")));
        }
        // the name becomes an inventory host name: anything else (spaces, `=`, `#`, `[`) would be
        // inventory syntax, e.g. `vm ansible_connection=local` (issue 16.8)
        if let Some(bad) = invalid_host_name(&name) {
            return Err(at(i_name, format!("{COL_NAME} '{}' cannot be an inventory host name: {bad}", name.escape_default())));
        }
        let addr = |idx: usize, col: &str| -> Result<Option<IpAddr>, ConfigError> {
            let v = rec.get(idx).unwrap_or("").trim();
            // The portal writes an empty cell (sometimes "-") for a network the VM is not attached to.
            if v.is_empty() || v == "-" {
                return Ok(None);
            }
            v.parse::<IpAddr>().map(Some).map_err(|_| at(idx, format!("{col} of {name}: '{v}' is not an IP address")))
        };
        let eth_v4 = match addr(i_eth4, COL_ETH_V4)? {
            Some(IpAddr::V4(a)) => Some(a),
            Some(IpAddr::V6(_)) => return Err(at(i_eth4, format!("{COL_ETH_V4} of {name} is an IPv6 address"))),
            None => None,
        };
        let rdma_v4 = match addr(i_rdma4, COL_RDMA_V4)? {
            Some(IpAddr::V4(a)) => Some(a),
            Some(IpAddr::V6(_)) => return Err(at(i_rdma4, format!("{COL_RDMA_V4} of {name} is an IPv6 address"))),
            None => None,
        };
        let eth_v6 = match addr(i_eth6, COL_ETH_V6)? {
            Some(IpAddr::V6(a)) if is_link_local(&a) && !enable_linklocal => None,
            Some(IpAddr::V6(a)) => Some(a),
            Some(IpAddr::V4(_)) => return Err(at(i_eth6, format!("{COL_ETH_V6} of {name} is an IPv4 address"))),
            None => None,
        };
        if let Some(prev) = vms.iter().find(|v: &&Vm| v.name == name) {
            return Err(at(i_name, format!("duplicate VM_NAME {name} (first on line {})", prev.line)));
        }
        vms.push(Vm { name, line, eth_v4, eth_v6, rdma_v4 });
    }
    Ok(vms)
}

pub fn is_link_local(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

fn csv_error(path: &Path, body: &str, e: &csv::Error) -> ConfigError {
    let (line, col) = match e.kind() {
        csv::ErrorKind::UnequalLengths { pos: Some(p), expected_len, len } => {
            let line = p.line() as usize;
            let raw = body.lines().nth(line.saturating_sub(1)).unwrap_or("");
            let col = if len > expected_len { field_column(raw, *expected_len as usize) } else { raw.chars().count() + 1 };
            return ConfigError::at(path, line, col, format!("row has {len} fields, the header has {expected_len}"));
        }
        csv::ErrorKind::Utf8 { pos: Some(p), .. } => (p.line() as usize, 1),
        _ => (e.position().map(|p| p.line() as usize).unwrap_or(0), 1),
    };
    ConfigError::at(path, line, col, format!("bad CSV: {e}"))
}

/// 1-based column where field `idx` starts in a single CSV line (quotes respected).
fn field_column(line: &str, idx: usize) -> usize {
    let mut field = 0;
    let mut in_quotes = false;
    for (col, ch) in line.chars().enumerate() {
        if field == idx {
            return col + 1;
        }
        match ch {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => field += 1,
            _ => {}
        }
    }
    line.chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_of_fields() {
        assert_eq!(field_column("a,bb,\"c,d\",e", 0), 1);
        assert_eq!(field_column("a,bb,\"c,d\",e", 2), 6);
        assert_eq!(field_column("a,bb,\"c,d\",e", 3), 12);
    }

    #[test]
    fn crafted_names_never_become_inventory_syntax() {
        let head = "VM_NAME,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4\n";
        for (name, col) in
            [("vm1 ansible_connection=local", "' '"), ("\"vm1\tansible_ssh_common_args=-o ProxyJump=x\"", "'\\t'"), ("vm#1", "'#'"), ("[all:vars]", "'['"), ("-vm", "starts with")]
        {
            let text = format!("{head}ok-vm,10.0.0.1,,\n{name},10.0.0.2,,\n");
            let e = parse_vm_csv(Path::new("vms.csv"), &text, false).unwrap_err().to_string();
            assert!(e.contains("vms.csv:3:1") && e.contains("cannot be an inventory host name") && e.contains(col), "{name}: {e}");
        }
        let ok = parse_vm_csv(Path::new("vms.csv"), &format!("{head}llm-jp_gpu.01,10.0.0.1,,\n"), false).unwrap();
        assert_eq!(ok[0].name, "llm-jp_gpu.01");
    }

    #[test]
    fn link_local() {
        assert!(is_link_local(&"fe80::1".parse().unwrap()));
        assert!(!is_link_local(&"2001:db8::1".parse().unwrap()));
    }
}
