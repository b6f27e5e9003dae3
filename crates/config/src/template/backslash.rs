//! Ansible's `_escape_backslashes`: inside `{{ ... }}` of task strings (not template files),
//! backslashes in Jinja string literals are doubled before rendering, so that `'\d+'` or `'\1'`
//! written in a playbook reach the filter as written (YAML already consumed one level).
use std::borrow::Cow;

/// Apply to a template string: only string literals inside `{{ ... }}` are touched.
pub fn escape_template(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') || !s.contains("{{") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let body = &rest[start + 2..];
        let end = expr_end(body);
        out.push_str("{{");
        out.push_str(&escape_expr(&body[..end]));
        rest = &body[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Where the expression (starting after `{{`) ends: at `}}` outside string literals.
fn expr_end(body: &str) -> usize {
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => i = literal_end(b, i, q),
            b'}' if b.get(i + 1) == Some(&b'}') => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// Index just past the literal starting at `i` (Jinja's lexer rule: `\x` never ends it).
fn literal_end(b: &[u8], mut i: usize, q: u8) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            c if c == q => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Apply to a bare expression (`when:`, the inside of `{{ }}`).
pub fn escape_expr(e: &str) -> Cow<'_, str> {
    if !e.contains('\\') {
        return Cow::Borrowed(e);
    }
    let b = e.as_bytes();
    let mut out = String::with_capacity(e.len() + 8);
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                let end = literal_end(b, i, q);
                out.push_str(&e[last..i]);
                out.push_str(&e[i..end].replace('\\', "\\\\"));
                last = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&e[last..]);
    Cow::Owned(out)
}
