//! `ast.literal_eval` for INI inventory values: Ansible turns `port=22` into 22, `x=True` into
//! true, `l=[1,'a']` into a list, and keeps anything that is not a Python literal
//! (`ethipv4=10.1.2.3`, `x=true`, `x=0644`) as the original string.
use serde_json::{Map, Number, Value};

/// The literal's value, or `None` if `s` is not exactly one Python literal.
pub fn literal_eval(s: &str) -> Option<Value> {
    let s = s.trim_start_matches([' ', '\t']);
    let mut p = P { s: s.as_bytes(), i: 0 };
    p.ws();
    let v = p.expr()?;
    p.ws();
    // a trailing Python comment is allowed: `"a b"  # note`
    if p.i == p.s.len() || p.peek() == Some(b'#') {
        Some(v)
    } else {
        None
    }
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expr(&mut self) -> Option<Value> {
        self.ws();
        match self.peek()? {
            b'[' => self.seq(b']').map(Value::Array),
            b'(' => {
                // tuple or parenthesised literal
                self.i += 1;
                let start = self.i;
                self.ws();
                if self.peek() == Some(b')') {
                    self.i += 1;
                    return Some(Value::Array(vec![]));
                }
                let first = self.expr()?;
                if self.eat(b')') {
                    return Some(first);
                }
                self.i = start - 1;
                self.seq(b')').map(Value::Array)
            }
            b'{' => self.dict_or_set(),
            b'\'' | b'"' => self.strings(),
            b'-' | b'+' => {
                let neg = self.peek() == Some(b'-');
                self.i += 1;
                match self.expr()? {
                    Value::Number(n) if neg => negate(&n),
                    Value::Number(n) => Some(Value::Number(n)),
                    _ => None,
                }
            }
            c if c.is_ascii_digit() || c == b'.' => self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                match word {
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    "None" => Some(Value::Null),
                    // string prefixes: r'..', u'..'
                    "r" | "u" | "R" | "U" if matches!(self.peek(), Some(b'\'' | b'"')) => {
                        let raw = word.eq_ignore_ascii_case("r");
                        self.string(raw).map(Value::String)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
    fn seq(&mut self, close: u8) -> Option<Vec<Value>> {
        self.i += 1; // opening bracket
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            if !self.eat(b',') {
                return if self.eat(close) { Some(items) } else { None };
            }
        }
    }
    fn dict_or_set(&mut self) -> Option<Value> {
        self.i += 1;
        let mut map = Map::new();
        let mut set = Vec::new();
        loop {
            if self.eat(b'}') {
                return Some(if set.is_empty() { Value::Object(map) } else { Value::Array(set) });
            }
            let k = self.expr()?;
            if self.eat(b':') {
                if !set.is_empty() {
                    return None;
                }
                let v = self.expr()?;
                let key = match k {
                    Value::String(s) => s,
                    Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
                    Value::Null => "None".to_string(),
                    other => other.to_string(),
                };
                map.insert(key, v);
            } else {
                if !map.is_empty() {
                    return None;
                }
                set.push(k);
            }
            if !self.eat(b',') {
                return if self.eat(b'}') { Some(if set.is_empty() { Value::Object(map) } else { Value::Array(set) }) } else { None };
            }
        }
    }
    /// Adjacent string literals concatenate, as in Python.
    fn strings(&mut self) -> Option<Value> {
        let mut out = self.string(false)?;
        loop {
            self.ws();
            match self.peek() {
                Some(b'\'' | b'"') => out.push_str(&self.string(false)?),
                _ => return Some(Value::String(out)),
            }
        }
    }
    fn string(&mut self, raw: bool) -> Option<String> {
        let q = self.peek()?;
        let triple = self.s[self.i..].starts_with(&[q, q, q]);
        self.i += if triple { 3 } else { 1 };
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            if c == q && (!triple || self.s[self.i..].starts_with(&[q, q, q])) {
                self.i += if triple { 3 } else { 1 };
                return String::from_utf8(out).ok();
            }
            if c == b'\n' && !triple {
                return None;
            }
            if c == b'\\' && !raw {
                self.i += 1;
                let e = self.peek()?;
                self.i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'0' => out.push(0),
                    b'\\' | b'\'' | b'"' => out.push(e),
                    b'\n' => {}
                    _ => {
                        out.push(b'\\');
                        out.push(e);
                    }
                }
                continue;
            }
            if c == b'\\' && raw {
                out.push(c);
                self.i += 1;
                if let Some(n) = self.peek() {
                    out.push(n);
                    self.i += 1;
                }
                continue;
            }
            out.push(c);
            self.i += 1;
        }
    }
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
            || ((c == b'+' || c == b'-') && matches!(self.s.get(self.i - 1), Some(b'e' | b'E')) && !is_radix(&self.s[start..self.i])))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
            return None;
        }
        let t = text.replace('_', "");
        let lower = t.to_ascii_lowercase();
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(d) = lower.strip_prefix(prefix) {
                return i64::from_str_radix(d, radix).ok().map(|n| Value::Number(n.into()));
            }
        }
        if lower.bytes().all(|c| c.is_ascii_digit()) {
            // Python 3 rejects leading zeros (`0644` is a SyntaxError)
            if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|c| c != b'0') {
                return None;
            }
            return lower.parse::<i64>().ok().map(|n| Value::Number(n.into()));
        }
        if lower.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) {
            return lower.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number);
        }
        None
    }
}

fn is_radix(s: &[u8]) -> bool {
    s.len() > 1 && s[0] == b'0' && matches!(s[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
}

fn negate(n: &Number) -> Option<Value> {
    if let Some(i) = n.as_i64() {
        return Some(Value::Number((-i).into()));
    }
    Number::from_f64(-n.as_f64()?).map(Value::Number)
}
