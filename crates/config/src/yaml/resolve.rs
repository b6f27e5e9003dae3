//! PyYAML's YAML 1.1 implicit resolver, applied to the raw text of scalars where serde-saphyr's
//! inference is broader than PyYAML's (which is what Ansible uses).
use regex::Regex;
use std::sync::OnceLock;

/// PyYAML booleans: yes/Yes/YES/no/No/NO/true/True/TRUE/false/False/FALSE/on/On/ON/off/Off/OFF.
pub fn pyyaml_bool(raw: &str) -> Option<bool> {
    match raw {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// PyYAML's float regex (YAML 1.1): needs a dot unless it is .inf/.nan.
pub fn pyyaml_float(raw: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        )
        .unwrap()
    })
    .is_match(raw)
}
