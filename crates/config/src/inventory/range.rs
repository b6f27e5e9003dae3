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
        _ => Ok((pattern.to_string(), None)), // IPv6 address
    }
}

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
    if beg.chars().all(|c| c.is_ascii_digit()) && end.chars().all(|c| c.is_ascii_digit()) && !end.is_empty() {
        let (b, e) = (beg.parse::<u64>().unwrap(), end.parse::<u64>().map_err(|_| format!("bad range end in '{pattern}'"))?);
        if b > e {
            return Err(format!("range start is after range end in '{pattern}'"));
        }
        // a leading zero pads every item to the width of the start, as Ansible
        let width = if beg.len() > 1 && beg.starts_with('0') { beg.len() } else { 0 };
        let mut i = b;
        while i <= e {
            items.push(format!("{i:0width$}"));
            i += step as u64;
        }
    } else if beg.len() == 1 && end.len() == 1 && beg.chars().all(|c| c.is_ascii_alphabetic()) && end.chars().all(|c| c.is_ascii_alphabetic()) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if b > e {
            return Err(format!("range start is after range end in '{pattern}'"));
        }
        items.extend((b..=e).step_by(step).map(|c| (c as char).to_string()));
    } else {
        return Err(format!("host range '{pattern}' mixes letters and numbers or is malformed"));
    }
    let mut out = Vec::new();
    for it in items {
        for rest in expand_host_range(tail)? {
            out.push(format!("{head}{it}{rest}"));
        }
    }
    Ok(out)
}
