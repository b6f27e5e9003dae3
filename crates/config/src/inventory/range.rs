//! Host ranges (`node[01:10]`, `db-[a:c]`, `x[1:9:2]`) and `host:port` splitting, as Ansible's INI reader does.

/// Split `host:port` (also `[v6addr]:port`); a bare IPv6 address has no port.
pub fn split_port(pattern: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = pattern.strip_prefix('[') {
        // `[::1]:22` but not a range like `[01:10]host`
        if let Some(end) = rest.find(']') {
            let inside = &rest[..end];
            if inside.matches(':').count() >= 2 {
                let after = &rest[end + 1..];
                let port = match after.strip_prefix(':') {
                    Some(p) => Some(p.parse::<u16>().map_err(|_| format!("invalid port in '{pattern}'"))?),
                    None if after.is_empty() => None,
                    None => return Err(format!("invalid host pattern '{pattern}'")),
                };
                return Ok((inside.to_string(), port));
            }
        }
    }
    // colons outside brackets
    let mut depth = 0i32;
    let mut colons = Vec::new();
    for (i, c) in pattern.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => colons.push(i),
            _ => {}
        }
    }
    if !colons.is_empty() && pattern.ends_with(':') {
        return Err(format!("invalid host pattern '{pattern}': ending in ':' is not allowed, this character is reserved to provide a port"));
    }
    match colons.as_slice() {
        [] => Ok((pattern.to_string(), None)),
        [i] => {
            let port = &pattern[i + 1..];
            if port.is_empty() {
                return Err(format!("invalid host pattern '{pattern}': ending in ':' is not allowed, this character is reserved to provide a port"));
            }
            let p = port.parse::<u16>().map_err(|_| format!("invalid port '{port}' in host pattern '{pattern}'"))?;
            Ok((pattern[..*i].to_string(), Some(p)))
        }
        // an IPv6 address (ranges allowed in it); anything else with several colons is no host
        _ if pattern.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '[' | ']')) => Ok((pattern.to_string(), None)),
        _ => Err(format!("invalid host pattern '{pattern}': use host:port, or an IPv6 address")),
    }
}

/// A range larger than this is refused: it would only exhaust memory (Ansible would try).
const MAX_RANGE_HOSTS: u128 = 1_000_000;

/// Expand every `[a:b]` / `[a:b:step]` range in a host name.
pub fn expand_host_range(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else { return Ok(vec![pattern.to_string()]) };
    let close = pattern[open..].find(']').map(|c| c + open).ok_or_else(|| format!("unclosed '[' in host range '{pattern}'"))?;
    let (head, inner, tail) = (&pattern[..open], &pattern[open + 1..close], &pattern[close + 1..]);
    if !inner.contains(':') {
        return Err(format!("host range '{pattern}' must look like [begin:end] or [begin:end:step]"));
    }
    let parts: Vec<&str> = inner.split(':').collect();
    let (beg, end, step) = match parts.as_slice() {
        [b, e] => (*b, *e, 1usize),
        [b, e, s] => (*b, *e, s.parse::<usize>().map_err(|_| format!("bad step in host range '{pattern}'"))?),
        _ => return Err(format!("bad host range '{pattern}'")),
    };
    if step == 0 {
        return Err(format!("range step must be positive in '{pattern}'"));
    }
    let beg = if beg.is_empty() { "0" } else { beg };
    let mut items = Vec::new();
    if end.is_empty() {
        return Err(format!("host range '{pattern}' must specify an end value"));
    }
    if beg.chars().all(|c| c.is_ascii_digit()) && end.chars().all(|c| c.is_ascii_digit()) {
        let too_big = || format!("host range '{pattern}': a bound has more than 38 digits");
        let (b, e) = (beg.parse::<u128>().map_err(|_| too_big())?, end.parse::<u128>().map_err(|_| too_big())?);
        // a leading zero pads every item to the width of the start, as Ansible (which wants equal widths)
        let width = if beg.len() > 1 && beg.starts_with('0') { beg.len() } else { 0 };
        if width > 0 && end.len() != width {
            return Err(format!("host range '{pattern}' must specify equal-length begin and end formats"));
        }
        // begin > end is an empty range, as Python's range(); a huge one is refused, not allocated
        let count = if b > e { 0 } else { (e - b) / step as u128 + 1 };
        if count > MAX_RANGE_HOSTS {
            return Err(format!("host range '{pattern}' expands to {count} hosts; at most {MAX_RANGE_HOSTS} per range"));
        }
        items.extend((0..count).map(|k| format!("{:0width$}", b + k * step as u128)));
    } else if beg.len() == 1 && end.len() == 1 && beg.chars().all(|c| c.is_ascii_alphabetic()) && end.chars().all(|c| c.is_ascii_alphabetic()) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if b > e {
            return Err(format!("range start is after range end in '{pattern}'"));
        }
        items.extend((b..=e).step_by(step).map(|c| (c as char).to_string()));
    } else {
        return Err(format!("host range '{pattern}' mixes letters and numbers or is malformed"));
    }
    // the tail is expanded once; the product of all ranges is bounded like one range
    let rests = expand_host_range(tail)?;
    let total = items.len() as u128 * rests.len() as u128;
    if total > MAX_RANGE_HOSTS {
        return Err(format!("host range '{pattern}' expands to {total} hosts; at most {MAX_RANGE_HOSTS} per pattern"));
    }
    let mut out = Vec::with_capacity(total as usize);
    for it in &items {
        for rest in &rests {
            out.push(format!("{head}{it}{rest}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn bounds_that_overflowed_or_never_ended() {
        // used to panic on u64 overflow; Python's range() is empty when begin > end
        assert_eq!(expand_host_range("h[99999999999999999999:1]").unwrap(), Vec::<String>::new());
        // used to wrap around at u64::MAX and allocate without end
        assert_eq!(expand_host_range("h[18446744073709551615:18446744073709551615]").unwrap(), vec!["h18446744073709551615"]);
        assert!(expand_host_range("h[0:99999999999]").unwrap_err().contains("at most"));
        assert!(expand_host_range("h[1:999999999999999999999999999999999999999999]").unwrap_err().contains("38 digits"));
        assert!(expand_host_range("h[01:100]").unwrap_err().contains("equal-length"));
        assert!(expand_host_range("h[1:]").unwrap_err().contains("end value"));
        assert_eq!(expand_host_range("h[08:10]").unwrap(), vec!["h08", "h09", "h10"]);
        // several ranges multiply: the product is bounded too (found by the fuzzer: a hang)
        assert!(expand_host_range("a[0:9]b[0:999999]c[0:9]").unwrap_err().contains("at most"));
        assert_eq!(expand_host_range("n[1:2]-[a:b]").unwrap(), vec!["n1-a", "n1-b", "n2-a", "n2-b"]);
    }

    #[test]
    fn a_trailing_colon_is_no_port() {
        assert!(split_port("node-[a:c]:222:").unwrap_err().contains("ending in ':'"));
        assert!(split_port("host:").unwrap_err().contains("ending in ':'"));
        assert!(split_port("web:x:22").is_err());
        assert_eq!(split_port("fe80::1").unwrap(), ("fe80::1".to_string(), None));
        assert_eq!(split_port("2001:db8::[1:3]").unwrap(), ("2001:db8::[1:3]".to_string(), None));
        assert_eq!(split_port("node-[a:c]:222").unwrap(), ("node-[a:c]".to_string(), Some(222)));
    }
}
