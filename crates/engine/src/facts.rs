//! Facts returned by modules (`setup`, or any module's `ansible_facts`) become host variables the
//! way Ansible exposes them: `ansible_facts.distribution` and `ansible_distribution`; a fact without the
//! prefix also under its own name (`getent_passwd`), as Ansible's inject_facts_as_vars does.
use serde_json::{Map, Value};

/// Merge `new` facts (keys with or without the `ansible_` prefix) into a host's fact layer.
pub fn absorb(host_facts: &mut Map<String, Value>, new: &Map<String, Value>) {
    let mut af = match host_facts.remove("ansible_facts") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in new {
        let short = k.strip_prefix("ansible_").unwrap_or(k);
        af.insert(short.to_string(), v.clone());
        host_facts.insert(format!("ansible_{short}"), v.clone());
        // Ansible injects facts as variables under the name the module gave (`getent_passwd`, `packages`)
        if short == k {
            host_facts.insert(k.clone(), v.clone());
        }
    }
    host_facts.insert("ansible_facts".into(), Value::Object(af));
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn both_spellings() {
        let mut f = Map::new();
        let new: Map<String, Value> = serde_json::from_str(r#"{"ansible_distribution":"Ubuntu","os_family":"Debian"}"#).unwrap();
        absorb(&mut f, &new);
        assert_eq!(f["ansible_distribution"], "Ubuntu");
        assert_eq!(f["ansible_os_family"], "Debian");
        assert_eq!(f["ansible_facts"]["distribution"], "Ubuntu");
        assert_eq!(f["ansible_facts"]["os_family"], "Debian");
        // an unprefixed fact is a variable under its own name too (getent_passwd), a prefixed one is not
        assert_eq!(f["os_family"], "Debian");
        assert!(f.get("distribution").is_none());
    }
}
