//! A located YAML tree built from serde-saphyr's `Spanned` values.
use super::resolve::{pyyaml_bool, pyyaml_float};
use super::Origin;
use crate::error::ConfigError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;
use std::path::Path;
use std::sync::Arc;

/// One YAML node with the location of its first character.
#[derive(Debug, Clone)]
pub struct Node {
    pub origin: Origin,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// null, bool, number or string
    Scalar(Value),
    Seq(Vec<Node>),
    /// Keys are strings (non-string YAML keys are turned into their text), in file order.
    Map(Vec<(Located<String>, Node)>),
}

type Located<T> = super::Located<T>;

impl Node {
    /// The plain JSON value (locations dropped).
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    // last duplicate wins, like Ansible
                    m.insert(k.value.clone(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }
    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().rev().find(|(k, _)| k.value == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// Origin of the key `key` in a mapping node (for "unknown key" errors).
    pub fn key_origin(&self, key: &str) -> Option<&Origin> {
        match &self.kind {
            NodeKind::Map(entries) => entries.iter().rev().find(|(k, _)| k.value == key).map(|(k, _)| &k.origin),
            _ => None,
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(Value::Null) => "null",
            NodeKind::Scalar(Value::Bool(_)) => "a boolean",
            NodeKind::Scalar(Value::Number(_)) => "a number",
            NodeKind::Scalar(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// What serde-saphyr hands us, before PyYAML fix-ups.
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = seq.next_element::<Spanned<Raw>>()? {
            items.push(x);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<Raw>, Spanned<Raw>>()? {
            entries.push((k, v));
        }
        Ok(Raw::Map(entries))
    }
}

fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o
}

pub(super) fn parse(text: &str, file: &Path) -> Result<Node, ConfigError> {
    let file_arc = Arc::new(file.to_path_buf());
    if is_blank_yaml(text) {
        return Ok(Node { origin: Origin { file: file_arc, line: 1, col: 1 }, kind: NodeKind::Scalar(Value::Null) });
    }
    let raw: Spanned<Raw> = serde_saphyr::from_str_with_options(text, options()).map_err(|e| to_config_error(&e, text, file))?;
    let cx = Cx { text, file: file_arc };
    cx.convert(raw)
}

/// Only comments, whitespace and document markers: an empty document.
fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

struct Cx<'a> {
    text: &'a str,
    file: Arc<std::path::PathBuf>,
}

impl Cx<'_> {
    fn origin(&self, loc: &serde_saphyr::Location) -> Origin {
        Origin { file: self.file.clone(), line: loc.line() as usize, col: loc.column() as usize }
    }

    /// The source text of a scalar (for PyYAML's stricter resolution).
    fn raw_text(&self, loc: &serde_saphyr::Location) -> Option<&str> {
        let span = loc.span();
        let (off, len) = (span.byte_offset()? as usize, span.byte_len()? as usize);
        self.text.get(off..off + len)
    }

    /// Is the scalar at `loc` written `!unsafe ...`?
    fn tagged_unsafe(&self, loc: &serde_saphyr::Location) -> bool {
        let Some(off) = loc.span().byte_offset() else { return false };
        let off = off as usize;
        let here = self.text.get(off..).unwrap_or("");
        let before = self.text.get(..off).unwrap_or("").trim_end();
        here.starts_with("!unsafe") || before.ends_with("!unsafe")
    }

    /// Is the scalar at `loc` written `!vault ...` or `!vault |` (Ansible's inline vault value)?
    fn tagged_vault(&self, loc: &serde_saphyr::Location) -> bool {
        let Some(off) = loc.span().byte_offset() else { return false };
        let off = off as usize;
        if self.text.get(off..).unwrap_or("").starts_with("!vault") {
            return true;
        }
        let before = self.text.get(..off).unwrap_or("").trim_end();
        // the span may start after a block scalar header (`|`, `|-`, `>2`...)
        let header = before.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
        let before = header.strip_suffix(['|', '>']).map(str::trim_end).unwrap_or(before);
        before.ends_with("!vault")
    }

    /// The plaintext of an inline `!vault` value, as a plain string.
    fn unvault(&self, st: &str, origin: &Origin) -> Result<NodeKind, ConfigError> {
        let err = |m: String| ConfigError::at(&self.file, origin.line, origin.col, m);
        let plain = crate::vault::store::decrypt(st.as_bytes()).map_err(|e| err(format!("cannot decrypt this !vault value: {e}")))?;
        let text = std::str::from_utf8(&plain).map_err(|_| err("the decrypted !vault value is not UTF-8 text".into()))?;
        Ok(NodeKind::Scalar(Value::String(text.to_string())))
    }

    fn convert(&self, s: Spanned<Raw>) -> Result<Node, ConfigError> {
        let origin = self.origin(&s.referenced);
        let kind = match s.value {
            Raw::Null => NodeKind::Scalar(Value::Null),
            Raw::Bool(b) => match self.raw_text(&s.defined).map(str::trim) {
                // `y`, `n`, `yEs`... are strings to PyYAML
                Some(t) if is_plain(t) && pyyaml_bool(t).is_none() => NodeKind::Scalar(Value::String(t.to_string())),
                _ => NodeKind::Scalar(Value::Bool(b)),
            },
            // `0o17` is YAML 1.2 only: a string to PyYAML
            Raw::Int(_) | Raw::UInt(_) if self.raw_text(&s.defined).map(str::trim).is_some_and(|t| is_plain(t) && is_yaml12_octal(t)) => {
                NodeKind::Scalar(Value::String(self.raw_text(&s.defined).unwrap_or_default().trim().to_string()))
            }
            Raw::Int(i) => NodeKind::Scalar(Value::Number(i.into())),
            Raw::UInt(u) => NodeKind::Scalar(Value::Number(u.into())),
            Raw::Float(f) => match self.raw_text(&s.defined).map(str::trim) {
                Some(t) if is_plain(t) && !pyyaml_float(t) => NodeKind::Scalar(Value::String(t.to_string())),
                _ => NodeKind::Scalar(Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            },
            // `!vault |` holds a vault text: decrypted here, so templates see the plain string
            Raw::Str(st) if self.tagged_vault(&s.defined) => self.unvault(&st, &origin)?,
            // Ansible's `!unsafe` means "never template this": keep it literal through rendering
            Raw::Str(st) if self.tagged_unsafe(&s.defined) && (st.contains("{{") || st.contains("{%") || st.contains("{#")) => {
                NodeKind::Scalar(Value::String(format!("{{% raw %}}{st}{{% endraw %}}")))
            }
            // YAML 1.1 base-60 integers (`1:30` is 90 to PyYAML)
            Raw::Str(st) if self.raw_text(&s.defined).map(str::trim) == Some(st.as_str()) && sexagesimal(&st).is_some() => {
                NodeKind::Scalar(Value::Number(sexagesimal(&st).unwrap_or_default().into()))
            }
            Raw::Str(st) => NodeKind::Scalar(Value::String(st)),
            Raw::Seq(items) => NodeKind::Seq(items.into_iter().map(|i| self.convert(i)).collect::<Result<_, _>>()?),
            Raw::Map(entries) => NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let korigin = self.origin(&k.referenced);
                        let key = key_text(self.convert(k)?);
                        Ok((Located { value: key, origin: korigin }, self.convert(v)?))
                    })
                    .collect::<Result<_, ConfigError>>()?,
            ),
        };
        Ok(Node { origin, kind })
    }
}

fn is_yaml12_octal(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    t.starts_with("0o") || t.starts_with("0O")
}

/// PyYAML's sexagesimal int: `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`.
fn sexagesimal(t: &str) -> Option<i64> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let mut parts = body.split(':');
    let first = parts.next()?.replace('_', "");
    if !first.starts_with(|c: char| ('1'..='9').contains(&c)) || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = first.parse().ok()?;
    let mut any = false;
    for p in parts {
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() == 2 && p.as_bytes()[0] > b'5') {
            return None;
        }
        n = n.checked_mul(60)?.checked_add(p.parse::<i64>().ok()?)?;
        any = true;
    }
    any.then_some(if neg { -n } else { n })
}

/// A plain (unquoted, untagged) scalar spelling.
fn is_plain(t: &str) -> bool {
    !t.is_empty() && !t.starts_with(['"', '\'', '!', '|', '>', '*', '&'])
}

fn key_text(n: Node) -> String {
    match n.kind {
        NodeKind::Scalar(Value::String(s)) => s,
        NodeKind::Scalar(Value::Null) => "null".into(),
        // Python would print True/False for boolean keys
        NodeKind::Scalar(Value::Bool(b)) => if b { "True" } else { "False" }.into(),
        NodeKind::Scalar(v) => v.to_string(),
        other => Node { origin: n.origin, kind: other }.to_value().to_string(),
    }
}

/// serde-saphyr's error, reduced to one line, at its file:line:col.
fn to_config_error(e: &serde_saphyr::Error, text: &str, file: &Path) -> ConfigError {
    let (line, col) = e.location().map(|l| (l.line() as usize, l.column() as usize)).unwrap_or((0, 0));
    let mut msg = first_message_line(&e.to_string());
    if msg.contains("multiple YAML documents") {
        msg = "more than one YAML document (`---`) in this file; only one is allowed (as in Ansible)".into();
    }
    let _ = text;
    ConfigError::at(file, line, col, format!("invalid YAML: {msg}"))
}

/// Drop the snippet and "at line X column Y" decorations; we print our own.
fn first_message_line(s: &str) -> String {
    let first = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("syntax error");
    let first = first.trim_start_matches("error: ");
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"(?:^line \d+ column \d+: | at line \d+,? column \d+)").unwrap());
    re.replace_all(first, "").into_owned()
}
