//! getent's parser: getent(1) output lines into Ansible's `getent_<database>` dictionary (the first field
//! is the key; a key seen twice becomes a list of records, as the module does).
use serde_json::{Map, Value};

/// Ansible splits these on ':' when no `split` is given; the rest on whitespace (Python's str.split()).
const COLON: &[&str] = &["passwd", "shadow", "group", "gshadow"];

pub fn parse_getent(database: &str, split: Option<&str>, out: &str) -> Map<String, Value> {
    let split = split.or(COLON.contains(&database).then_some(":"));
    let mut tree = Map::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for line in out.lines() {
        let record: Vec<&str> = match split {
            Some(sep) if !sep.is_empty() => line.split(sep).collect(),
            _ => line.split_whitespace().collect(),
        };
        // a blank line is `['']` for a separator and `[]` for whitespace in Python; the latter cannot be keyed
        let Some((key, fields)) = record.split_first() else { continue };
        let fields = Value::from(fields.iter().map(|f| Value::from(*f)).collect::<Vec<_>>());
        let n = seen.entry(key.to_string()).or_insert(0);
        *n += 1;
        match (*n, tree.get_mut(*key)) {
            (1, _) | (_, None) => {
                tree.insert(key.to_string(), fields);
            }
            (2, Some(v)) => *v = Value::Array(vec![v.take(), fields]),
            (_, Some(Value::Array(a))) => a.push(fields),
            (_, Some(v)) => *v = fields,
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn passwd_hosts_and_duplicates() {
        let t = parse_getent("passwd", None, "root:x:0:0:root:/root:/bin/bash\n");
        assert_eq!(Value::Object(t), json!({"root": ["x", "0", "0", "root", "/root", "/bin/bash"]}));
        let t = parse_getent("hosts", None, "127.0.0.1   localhost\n::1  localhost ip6-localhost\n10.0.0.1 a\n");
        assert_eq!(Value::Object(t), json!({"127.0.0.1": ["localhost"], "::1": ["localhost", "ip6-localhost"], "10.0.0.1": ["a"]}));
        let t = parse_getent("services", Some("/"), "a/1\na/2\na/3\n");
        assert_eq!(Value::Object(t), json!({"a": [["1"], ["2"], ["3"]]}));
        let t = parse_getent("hosts", None, "\n   \n");
        assert!(t.is_empty());
    }
}
