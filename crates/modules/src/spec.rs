//! A module's argument spec, in the shape of Ansible's `argument_spec`: per argument a type, aliases, a
//! default, choices and `required`; per module `required_one_of`, `mutually_exclusive`,
//! `required_together` and `required_if`. Specs are `const` data beside each module.
//!
//! The same spec is checked twice: at parse time on the task as written ([`Phase::Parse`]: values that are
//! still templates pass, they are only known on the host), and on the templated arguments before a module
//! plans ([`Phase::Run`]).
use serde_json::{Map, Value};

/// The type of an argument, with Ansible's conversions (`"yes"` is a bool, `"5"` an int, `"a,b"` a list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string; numbers and booleans are accepted and turned into strings, as Ansible does.
    Str,
    Bool,
    Int,
    /// A YAML list, or a comma-separated string.
    List,
    Dict,
    /// Anything (the module looks at it itself).
    Raw,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Str => "str",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::List => "list",
            Kind::Dict => "dict",
            Kind::Raw => "raw",
        }
    }
}

/// A default value (const-friendly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Def {
    Str(&'static str),
    Bool(bool),
    Int(i64),
}

impl Def {
    pub fn to_value(self) -> Value {
        match self {
            Def::Str(s) => Value::from(s),
            Def::Bool(b) => Value::from(b),
            Def::Int(i) => Value::from(i),
        }
    }
}

/// One argument.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub default: Option<Def>,
    pub choices: &'static [&'static str],
    pub required: bool,
    /// Accepted for compatibility and ignored (said in the module's docs).
    pub ignored: bool,
}

/// `arg("name", Kind::Str).aliases(&["pkg"]).required()`
pub const fn arg(name: &'static str, kind: Kind) -> Arg {
    Arg { name, aliases: &[], kind, default: None, choices: &[], required: false, ignored: false }
}

impl Arg {
    pub const fn aliases(mut self, a: &'static [&'static str]) -> Arg {
        self.aliases = a;
        self
    }
    pub const fn required(mut self) -> Arg {
        self.required = true;
        self
    }
    pub const fn default(mut self, d: Def) -> Arg {
        self.default = Some(d);
        self
    }
    pub const fn choices(mut self, c: &'static [&'static str]) -> Arg {
        self.choices = c;
        self
    }
    pub const fn ignored(mut self) -> Arg {
        self.ignored = true;
        self
    }
    fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

pub const fn s(name: &'static str) -> Arg {
    arg(name, Kind::Str)
}
pub const fn b(name: &'static str) -> Arg {
    arg(name, Kind::Bool)
}
pub const fn i(name: &'static str) -> Arg {
    arg(name, Kind::Int)
}
pub const fn l(name: &'static str) -> Arg {
    arg(name, Kind::List)
}
pub const fn d(name: &'static str) -> Arg {
    arg(name, Kind::Dict)
}
pub const fn raw(name: &'static str) -> Arg {
    arg(name, Kind::Raw)
}

/// A module's whole spec.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub args: &'static [Arg],
    /// Each group: at least one must be given.
    pub required_one_of: &'static [&'static [&'static str]],
    /// Each group: at most one may be given.
    pub mutually_exclusive: &'static [&'static [&'static str]],
    /// Each group: all or none.
    pub required_together: &'static [&'static [&'static str]],
    /// (argument, value, required arguments): when the argument has this value, these are required.
    pub required_if: &'static [(&'static str, &'static str, &'static [&'static str])],
    /// Keys outside `args` are accepted (set_fact's variables, add_host's host variables).
    pub free_keys: bool,
}

impl ArgSpec {
    pub const fn new(args: &'static [Arg]) -> ArgSpec {
        ArgSpec { args, required_one_of: &[], mutually_exclusive: &[], required_together: &[], required_if: &[], free_keys: false }
    }
    pub const fn one_of(mut self, g: &'static [&'static [&'static str]]) -> ArgSpec {
        self.required_one_of = g;
        self
    }
    pub const fn exclusive(mut self, g: &'static [&'static [&'static str]]) -> ArgSpec {
        self.mutually_exclusive = g;
        self
    }
    pub const fn together(mut self, g: &'static [&'static [&'static str]]) -> ArgSpec {
        self.required_together = g;
        self
    }
    pub const fn required_if(mut self, g: &'static [(&'static str, &'static str, &'static [&'static str])]) -> ArgSpec {
        self.required_if = g;
        self
    }
    pub const fn free_keys(mut self) -> ArgSpec {
        self.free_keys = true;
        self
    }

    pub fn arg(&self, key: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.answers_to(key))
    }

    /// Every accepted name (aliases included), sorted: what an "unsupported argument" error lists.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<&str> = self.args.iter().flat_map(|a| std::iter::once(a.name).chain(a.aliases.iter().copied())).collect();
        v.sort_unstable();
        v
    }
}

/// When a spec is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The task as written: templated values are unknown yet and pass.
    Parse,
    /// The templated arguments, right before the module plans.
    Run,
}

/// What is wrong, and with which argument (so the loader can point at its line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub key: Option<String>,
    pub msg: String,
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}
impl std::error::Error for SpecError {}

fn err(key: Option<&str>, msg: String) -> SpecError {
    SpecError { key: key.map(str::to_string), msg }
}

pub fn is_templated(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains("{{") || s.contains("{%"))
}

/// Ansible's boolean spellings.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().and_then(|i| match i {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "t" | "on" | "1" => Some(true),
            "no" | "n" | "false" | "f" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Does `v` fit `kind` (after Ansible's conversions)?
fn type_error(kind: Kind, v: &Value) -> Option<String> {
    let ok = match kind {
        Kind::Raw => true,
        Kind::Str => matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
        Kind::Bool => parse_bool(v).is_some(),
        Kind::Int => match v {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            Value::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        Kind::List => matches!(v, Value::Array(_) | Value::String(_) | Value::Number(_)),
        Kind::Dict => matches!(v, Value::Object(_)),
    };
    (!ok).then(|| format!("must be of type {}, got {}", kind.name(), short(v)))
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

/// The string a choice is compared as (`yes` stays `yes`; numbers as written).
fn choice_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "yes".into() } else { "no".into() }),
        _ => None,
    }
}

impl ArgSpec {
    /// Check `args` (as given: any alias) against the spec. The first problem is returned, in the order
    /// ansible-playbook reports them: unknown names, then types and choices, then the cross-argument rules.
    pub fn check(&self, module: &str, args: &Map<String, Value>, phase: Phase) -> Result<(), SpecError> {
        let given = |name: &str| -> bool {
            self.arg(name).map(|a| std::iter::once(a.name).chain(a.aliases.iter().copied()).any(|k| args.get(k).is_some_and(|v| !v.is_null()))).unwrap_or(false)
        };
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for (k, v) in args {
            let Some(a) = self.arg(k) else {
                if self.free_keys {
                    continue;
                }
                return Err(err(Some(k), format!("{module}: unsupported argument '{k}' (supported: {})", self.names().join(", "))));
            };
            if let Some((other, _)) = seen.iter().find(|(_, canon)| *canon == a.name) {
                return Err(err(Some(k), format!("{module}: '{k}' and '{other}' are the same argument ('{}'); give it once", a.name)));
            }
            seen.push((k.as_str(), a.name));
            if v.is_null() || (phase == Phase::Parse && is_templated(v)) {
                continue;
            }
            if let Some(e) = type_error(a.kind, v) {
                return Err(err(Some(k), format!("{module}: argument '{k}' {e}")));
            }
            if !a.choices.is_empty() {
                let t = choice_text(v).unwrap_or_default();
                if !a.choices.contains(&t.as_str()) {
                    return Err(err(Some(k), format!("{module}: value of '{k}' must be one of: {}, got: {t}", a.choices.join(", "))));
                }
            }
        }
        for a in self.args.iter().filter(|a| a.required) {
            if !given(a.name) {
                let also = if a.aliases.is_empty() { String::new() } else { format!(" (or one of its aliases: {})", a.aliases.join(", ")) };
                return Err(err(None, format!("{module}: missing required argument '{}'{also}", a.name)));
            }
        }
        for g in self.required_one_of {
            if !g.iter().any(|k| given(k)) {
                return Err(err(None, format!("{module}: one of the following is required: {}", g.join(", "))));
            }
        }
        for g in self.mutually_exclusive {
            let present: Vec<&str> = g.iter().copied().filter(|k| given(k)).collect();
            if present.len() > 1 {
                return Err(err(self.key_given(args, present[1]), format!("{module}: parameters are mutually exclusive: {}", present.join("|"))));
            }
        }
        for g in self.required_together {
            let present: Vec<&str> = g.iter().copied().filter(|k| given(k)).collect();
            if !present.is_empty() && present.len() != g.len() {
                let missing: Vec<&str> = g.iter().copied().filter(|k| !given(k)).collect();
                return Err(err(None, format!("{module}: parameters are required together: {} (missing: {})", g.join(", "), missing.join(", "))));
            }
        }
        // as in Ansible, a default counts as given here (`state` defaulting to `present` triggers
        // `required_if: state=present`, and a defaulted argument satisfies it)
        let defaulted = |name: &str| self.arg(name).and_then(|a| a.default).map(Def::to_value);
        for (key, value, needs) in self.required_if {
            let Some(v) = self.value_of(args, key).cloned().or_else(|| defaulted(key)) else { continue };
            if phase == Phase::Parse && is_templated(&v) {
                continue;
            }
            if choice_text(&v).as_deref() == Some(*value) {
                let missing: Vec<&str> = needs.iter().copied().filter(|k| !given(k) && defaulted(k).is_none()).collect();
                if !missing.is_empty() {
                    return Err(err(None, format!("{module}: {key} is {value} but all of the following are missing: {}", missing.join(", "))));
                }
            }
        }
        Ok(())
    }

    /// The value of an argument under whichever alias it was given.
    pub fn value_of<'a>(&self, args: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
        let a = self.arg(name)?;
        std::iter::once(a.name).chain(a.aliases.iter().copied()).find_map(|k| args.get(k)).filter(|v| !v.is_null())
    }

    fn key_given(&self, args: &Map<String, Value>, name: &str) -> Option<&str> {
        let a = self.arg(name)?;
        std::iter::once(a.name).chain(a.aliases.iter().copied()).find(|k| args.contains_key(*k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: ArgSpec = ArgSpec::new(&[
        s("name").aliases(&["pkg"]),
        s("state").choices(&["present", "absent"]).default(Def::Str("present")),
        b("force"),
        i("uid"),
        l("groups"),
        s("src"),
        s("content"),
        s("owner"),
        s("group"),
    ])
    .one_of(&[&["name", "src"]])
    .exclusive(&[&["src", "content"]])
    .together(&[&["owner", "group"]])
    .required_if(&[("state", "absent", &["name"])]);

    fn check(v: Value, phase: Phase) -> Result<(), SpecError> {
        SPEC.check("m", v.as_object().unwrap(), phase)
    }

    #[test]
    fn every_rule() {
        assert!(check(json!({"pkg": "x"}), Phase::Run).is_ok());
        let e = check(json!({"name": "x", "bogus": 1}), Phase::Run).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("bogus"));
        assert!(e.msg.contains("unsupported argument 'bogus'") && e.msg.contains("content, force, group"), "{e}");
        assert!(check(json!({"name": "x", "force": "maybe"}), Phase::Run).unwrap_err().msg.contains("'force' must be of type bool"));
        assert!(check(json!({"name": "x", "force": "yes", "uid": "12"}), Phase::Run).is_ok());
        assert!(check(json!({"name": "x", "uid": "twelve"}), Phase::Run).unwrap_err().msg.contains("type int"));
        assert!(check(json!({"name": "x", "uid": "{{ u }}"}), Phase::Parse).is_ok());
        assert!(check(json!({"name": "x", "uid": "{{ u }}"}), Phase::Run).is_err());
        assert!(check(json!({"name": "x", "state": "gone"}), Phase::Run).unwrap_err().msg.contains("must be one of: present, absent, got: gone"));
        assert!(check(json!({"state": "present"}), Phase::Run).unwrap_err().msg.contains("one of the following is required: name, src"));
        assert!(check(json!({"src": "a", "content": "b"}), Phase::Run).unwrap_err().msg.contains("mutually exclusive: src|content"));
        assert!(check(json!({"name": "x", "owner": "a"}), Phase::Run).unwrap_err().msg.contains("required together: owner, group (missing: group)"));
        assert!(check(json!({"src": "x", "state": "absent"}), Phase::Run).unwrap_err().msg.contains("state is absent but all of the following are missing: name"));
        // a default triggers required_if, as in Ansible
        const DEF: ArgSpec = ArgSpec::new(&[s("state").default(Def::Str("present")), s("value"), s("mode").default(Def::Str("x"))])
            .required_if(&[("state", "present", &["value"]), ("state", "absent", &["mode"])]);
        assert!(DEF.check("m", json!({}).as_object().unwrap(), Phase::Run).unwrap_err().msg.contains("state is present but all of the following are missing: value"));
        assert!(DEF.check("m", json!({"state": "absent"}).as_object().unwrap(), Phase::Run).is_ok());
        assert!(DEF.check("m", json!({"value": 1}).as_object().unwrap(), Phase::Run).is_ok());
        assert!(check(json!({"name": "x", "pkg": "y"}), Phase::Run).unwrap_err().msg.contains("same argument"));
        assert!(check(json!({"name": "x", "groups": "a,b"}), Phase::Run).is_ok());
        assert!(check(json!({"name": "x", "groups": {"a": 1}}), Phase::Run).unwrap_err().msg.contains("type list"));
    }
}
