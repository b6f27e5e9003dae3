//! OpenSSH-style host patterns (`*`, `?`, `!negation`, comma or space separated lists).

/// Glob match with `*` (any run) and `?` (one char), case-insensitive like OpenSSH host matching.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A pattern list matches when some positive pattern matches and no negated one does.
pub fn list_matches<'a>(patterns: impl IntoIterator<Item = &'a str>, text: &str) -> bool {
    let mut positive = false;
    for pat in patterns {
        if let Some(neg) = pat.strip_prefix('!') {
            if glob(neg, text) {
                return false;
            }
        } else if glob(pat, text) {
            positive = true;
        }
    }
    positive
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn globs() {
        assert!(glob("*", "anything"));
        assert!(glob("web-*", "web-01"));
        assert!(glob("10.0.?.1", "10.0.5.1"));
        assert!(!glob("10.0.?.1", "10.0.55.1"));
        assert!(glob("*.example.*", "a.example.org"));
        assert!(glob("HOST", "host"));
        assert!(!glob("a*b", "acbd"));
        assert!(glob("a*b*", "acbd"));
    }
    #[test]
    fn lists() {
        assert!(list_matches(["*", "!bastion"], "vm1"));
        assert!(!list_matches(["*", "!bastion"], "bastion"));
        assert!(!list_matches(["!bastion"], "vm1"));
    }
}
