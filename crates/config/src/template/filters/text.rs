//! Text filters: shell quote, comment, base64.
use super::{invalid, text_of};
use base64::Engine;
use minijinja::value::Kwargs;
use minijinja::{Error, Value};

/// Python's shlex.quote.
pub fn quote(v: Value) -> String {
    let s = if v.is_none() { String::new() } else { text_of(&v) };
    if s.is_empty() {
        return "''".into();
    }
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c)) {
        return s;
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Ansible's `comment(style='plain', ...)`: `#\n# text\n#` by default.
pub fn comment(text: String, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let style = style.unwrap_or_else(|| "plain".into());
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(invalid(format!("comment: unknown style '{other}' (plain, erlang, c, cblock, xml)"))),
    };
    let get = |k: &str| -> Result<Option<String>, Error> { kwargs.get::<Option<String>>(k) };
    let prepostfix = get("decoration")?.unwrap_or_else(|| decoration.to_string());
    let newline = get("newline")?.unwrap_or_else(|| "\n".into());
    let beginning = get("beginning")?.unwrap_or_else(|| beginning.to_string());
    let decoration = get("decoration")?.unwrap_or_else(|| decoration.to_string());
    let end = get("end")?.unwrap_or_else(|| end.to_string());
    let default_fix = prepostfix.trim_end().to_string();
    let prefix = get("prefix")?.unwrap_or_else(|| default_fix.clone());
    let postfix = get("postfix")?.unwrap_or(default_fix);
    let prefix_count: usize = kwargs.get::<Option<usize>>("prefix_count")?.unwrap_or(1);
    let postfix_count: usize = kwargs.get::<Option<usize>>("postfix_count")?.unwrap_or(1);
    kwargs.assert_all_used()?;

    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        let unit = if prefix != newline { format!("{prefix}{newline}") } else { newline.clone() };
        out.push_str(&unit.repeat(prefix_count));
    }
    let body = format!("{decoration}{}", text.replace(&newline, &format!("{newline}{decoration}")));
    out.push_str(&body.replace(&format!("{decoration}{newline}"), &format!("{}{newline}", decoration.trim_end())));
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(out)
}

pub fn b64encode(v: Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(text_of(&v).as_bytes())
}

pub fn b64decode(v: String) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|e| invalid(format!("b64decode: invalid base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded data is not UTF-8 text"))
}
