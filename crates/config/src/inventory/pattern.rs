//! Ansible host patterns: `all`, `*`, names, globs, `~regex`, unions (`a:b`, `a,b`),
//! intersections (`a:&b`), exclusions (`a:!b`) and subscripts (`web[0]`, `web[1:3]`).
//! Order as Ansible: unions first, then intersections, then exclusions.
use super::Inventory;
use regex::Regex;
use std::collections::HashSet;

pub fn hosts_matching(inv: &Inventory, pattern: &str) -> Vec<String> {
    let parts = split_pattern(pattern);
    let (mut plain, mut and, mut not) = (Vec::new(), Vec::new(), Vec::new());
    for p in parts {
        if let Some(r) = p.strip_prefix('&') {
            and.push(r.to_string());
        } else if let Some(r) = p.strip_prefix('!') {
            not.push(r.to_string());
        } else {
            plain.push(p);
        }
    }
    if plain.is_empty() {
        plain.push("all".into());
    }
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for p in &plain {
        for h in single(inv, p) {
            if seen.insert(h.clone()) {
                out.push(h);
            }
        }
    }
    for p in &and {
        let keep: HashSet<String> = single(inv, p).into_iter().collect();
        out.retain(|h| keep.contains(h));
    }
    for p in &not {
        let drop: HashSet<String> = single(inv, p).into_iter().collect();
        out.retain(|h| !drop.contains(h));
    }
    out
}

/// Split on `,` if present, else on `:` outside `[...]` (a `~regex` keeps its colons only with commas).
fn split_pattern(pattern: &str) -> Vec<String> {
    let items: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut depth = 0;
        for c in pattern.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            if c == ':' && depth == 0 {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        out.push(cur);
        out
    };
    items.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn single(inv: &Inventory, pattern: &str) -> Vec<String> {
    let (base, sub) = split_subscript(pattern);
    let hosts = enumerate(inv, base);
    match sub {
        None => hosts,
        Some((start, end)) => {
            let n = hosts.len() as i64;
            let s = if start < 0 { n + start } else { start };
            let e = end.map(|e| if e < 0 { n + e } else { e }).unwrap_or(s);
            if s < 0 || s >= n {
                return Vec::new();
            }
            hosts[s as usize..=(e.min(n - 1) as usize).max(s as usize)].to_vec()
        }
    }
}

/// `web[0]`, `web[-1]`, `web[1:3]` (inclusive end, as Ansible).
fn split_subscript(pattern: &str) -> (&str, Option<(i64, Option<i64>)>) {
    if pattern.starts_with('~') || !pattern.ends_with(']') {
        return (pattern, None);
    }
    let Some(open) = pattern.rfind('[') else { return (pattern, None) };
    let inner = &pattern[open + 1..pattern.len() - 1];
    let sub = if let Some((a, b)) = inner.split_once(':') {
        let a = if a.trim().is_empty() { Some(0) } else { a.trim().parse().ok() };
        let b = if b.trim().is_empty() { Some(-1) } else { b.trim().parse().ok() };
        match (a, b) {
            (Some(a), Some(b)) => Some((a, Some(b))),
            _ => None,
        }
    } else {
        inner.trim().parse::<i64>().ok().map(|i| (i, None))
    };
    match sub {
        Some(s) if open > 0 => (&pattern[..open], Some(s)),
        _ => (pattern, None),
    }
}

fn enumerate(inv: &Inventory, pattern: &str) -> Vec<String> {
    if pattern == "all" || pattern == "*" {
        return inv.hosts.keys().filter(|h| !inv.implicit.contains(h)).cloned().collect();
    }
    let matcher = match Matcher::new(pattern) {
        Some(m) => m,
        None => return Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // exact names need no regex scan
    let groups: Vec<&String> = match inv.groups.get_key_value(pattern) {
        Some((k, _)) => vec![k],
        None => inv.groups.keys().filter(|g| matcher.is_match(g)).collect(),
    };
    for g in &groups {
        for h in inv.group_hosts(g) {
            if seen.insert(h.clone()) {
                out.push(h);
            }
        }
    }
    let special = pattern.starts_with('~') || pattern.contains(['.', '?', '*', '[']);
    if groups.is_empty() || special {
        if let (Some((h, _)), false) = (inv.hosts.get_key_value(pattern), special) {
            if seen.insert(h.clone()) {
                out.push(h.clone());
            }
            return out;
        }
        for h in inv.hosts.keys().filter(|h| matcher.is_match(h) && (!inv.implicit.contains(h) || *h == pattern)) {
            if seen.insert(h.clone()) {
                out.push(h.clone());
            }
        }
    }
    out
}

/// fnmatch glob (whole name) or `~regex` (anchored at the start, like Python's re.match).
struct Matcher(Regex);

impl Matcher {
    fn new(pattern: &str) -> Option<Matcher> {
        let re = match pattern.strip_prefix('~') {
            Some(r) => format!("^(?:{r})"),
            None => format!("^{}$", glob_to_regex(pattern)),
        };
        Regex::new(&re).ok().map(Matcher)
    }
    fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

fn glob_to_regex(g: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = g.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => match chars[i..].iter().position(|&c| c == ']') {
                Some(end) if end > 1 => {
                    let inner: String = chars[i + 1..i + end].iter().collect();
                    let inner = inner.strip_prefix('!').map(|r| format!("^{r}")).unwrap_or(inner);
                    out.push('[');
                    out.push_str(&inner.replace('\\', "\\\\"));
                    out.push(']');
                    i += end;
                }
                _ => out.push_str("\\["),
            },
            c => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out
}
