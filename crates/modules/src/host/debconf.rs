//! A package's debconf answers as `debconf-show` prints them, in one exec.
use crate::util::sh_quote;
use serde_json::{Map, Value};

pub fn show_script(package: &str) -> String {
    format!("debconf-show {} 2>/dev/null; true", sh_quote(package))
}

/// `* question: value` lines (the `*` marks seen questions) -> {question: value}.
pub fn parse_show(out: &str) -> Map<String, Value> {
    let mut current = Map::new();
    for l in out.lines() {
        let l = l.trim_start_matches(['*', ' ']);
        if let Some((k, v)) = l.split_once(": ") {
            current.insert(k.to_string(), v.into());
        } else if let Some(k) = l.strip_suffix(':') {
            current.insert(k.to_string(), "".into());
        }
    }
    current
}

#[cfg(test)]
mod tests {
    #[test]
    fn show() {
        let m = super::parse_show("* tzdata/Areas: Europe\n  tzdata/Zones/Etc:\n  x/y: a: b\n");
        assert_eq!(m["tzdata/Areas"], "Europe");
        assert_eq!(m["tzdata/Zones/Etc"], "");
        assert_eq!(m["x/y"], "a: b");
    }
}
