//! regex_replace / regex_search / regex_findall / regex_escape with Python's `re` syntax
//! (via the `regex` crate; lookarounds and backreferences in patterns are not supported and
//! give a clear error). Replacement backreferences `\1`, `\g<1>`, `\g<name>` work.
use super::invalid;
use minijinja::value::{Kwargs, Rest};
use minijinja::{Error, Value};
use regex::{Regex, RegexBuilder};

fn compile(pattern: &str, kwargs: &Kwargs) -> Result<Regex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    RegexBuilder::new(pattern)
        .case_insensitive(ignorecase.unwrap_or(false))
        .multi_line(multiline.unwrap_or(false))
        .build()
        .map_err(|e| invalid(format!("invalid regular expression '{pattern}': {e}")))
}

/// Python replacement syntax to the regex crate's: `\1` -> `${1}`, `\g<n>` -> `${n}`, `$` -> `$$`.
pub fn python_replacement(r: &str) -> String {
    let b: Vec<char> = r.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            '$' => out.push_str("$$"),
            '\\' if i + 1 < b.len() => {
                let n = b[i + 1];
                if n.is_ascii_digit() {
                    let mut j = i + 1;
                    while j < b.len() && b[j].is_ascii_digit() && j < i + 3 {
                        j += 1;
                    }
                    out.push_str(&format!("${{{}}}", b[i + 1..j].iter().collect::<String>()));
                    i = j;
                    continue;
                }
                if n == 'g' && b.get(i + 2) == Some(&'<') {
                    if let Some(end) = b[i + 3..].iter().position(|&c| c == '>') {
                        let name: String = b[i + 3..i + 3 + end].iter().collect();
                        out.push_str(&format!("${{{name}}}"));
                        i = i + 3 + end + 1;
                        continue;
                    }
                }
                match n {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    '\\' => out.push('\\'),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                i += 2;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

pub fn regex_replace(value: String, pattern: Option<String>, replacement: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let pattern = pattern.unwrap_or_default();
    let re = compile(&pattern, &kwargs)?;
    let count: Option<usize> = kwargs.get("count")?;
    kwargs.assert_all_used()?;
    let rep = python_replacement(&replacement.unwrap_or_default());
    Ok(re.replacen(&value, count.unwrap_or(0), rep.as_str()).into_owned())
}

/// `regex_search(pattern)` -> the match or None; `regex_search(pattern, '\\1', '\\g<name>')` -> list of groups.
pub fn regex_search(value: String, pattern: String, groups: Rest<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let Some(caps) = re.captures(&value) else { return Ok(Value::from(())) };
    if groups.0.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in &groups.0 {
        let m = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            match name.parse::<usize>() {
                Ok(n) => caps.get(n),
                Err(_) => caps.name(name),
            }
        } else {
            return Err(invalid(format!("regex_search: unknown group argument '{g}' (use '\\\\1' or '\\\\g<name>')")));
        };
        out.push(m.map(|m| Value::from(m.as_str())).unwrap_or(Value::from(())));
    }
    Ok(Value::from(out))
}

/// Python's re.findall: whole matches, or the group (or a list of groups) when the pattern has groups.
pub fn regex_findall(value: String, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let ngroups = re.captures_len() - 1;
    let out: Vec<Value> = re
        .captures_iter(&value)
        .map(|c| match ngroups {
            0 => Value::from(c.get(0).unwrap().as_str()),
            1 => Value::from(c.get(1).map(|m| m.as_str()).unwrap_or("")),
            _ => Value::from((1..=ngroups).map(|i| Value::from(c.get(i).map(|m| m.as_str()).unwrap_or(""))).collect::<Vec<_>>()),
        })
        .collect();
    Ok(Value::from(out))
}

pub fn regex_escape(value: String) -> String {
    regex::escape(&value)
}
