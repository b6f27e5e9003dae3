//! Typed access to a module's checked arguments: aliases resolved to the spec's names, defaults filled in.
use crate::spec::{parse_bool, ArgSpec, Phase, SpecError};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

pub struct Args {
    pub module: &'static str,
    spec: &'static ArgSpec,
    /// by the spec's argument names; nulls dropped; defaults applied
    values: Map<String, Value>,
    /// keys outside the spec (only for specs with `free_keys`)
    extra: Map<String, Value>,
}

impl Args {
    /// Check templated arguments against `spec` and resolve them.
    pub fn new(module: &'static str, spec: &'static ArgSpec, given: &Map<String, Value>) -> Result<Args, SpecError> {
        spec.check(module, given, Phase::Run)?;
        let mut values = Map::new();
        let mut extra = Map::new();
        for (k, v) in given {
            match spec.arg(k) {
                Some(a) if !v.is_null() => {
                    values.insert(a.name.to_string(), v.clone());
                }
                Some(_) => {}
                None => {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        for a in spec.args {
            if let (Some(d), false) = (a.default, values.contains_key(a.name)) {
                values.insert(a.name.to_string(), d.to_value());
            }
        }
        Ok(Args { module, spec, values, extra })
    }

    pub fn spec(&self) -> &'static ArgSpec {
        self.spec
    }

    /// The value of `key` (a spec name), given or defaulted.
    pub fn get(&self, key: &str) -> Option<&Value> {
        debug_assert!(self.spec.arg(key).is_some_and(|a| a.name == key), "{}: '{key}' is not a name in the spec", self.module);
        self.values.get(key)
    }
    /// Given by the task (not only defaulted).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    /// All resolved arguments by spec name (for modules handing their arguments on, like `package`).
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    pub fn str(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True".into() } else { "False".into() })),
            Some(v) => bail!("{}: argument '{key}' must be a string, got {v}", self.module),
        }
    }
    pub fn req(&self, key: &str) -> Result<String> {
        self.str(key)?.ok_or_else(|| anyhow!("{}: missing required argument '{key}'", self.module))
    }
    /// A boolean; absent and without a default it is false.
    pub fn bool(&self, key: &str) -> Result<bool> {
        self.opt_bool(key).map(|b| b.unwrap_or(false))
    }
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_bool(v).map(Some).ok_or_else(|| anyhow!("{}: argument '{key}' must be a boolean, got {v}", self.module)),
        }
    }
    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| anyhow!("{}: argument '{key}' must be an integer", self.module)),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| anyhow!("{}: argument '{key}' must be an integer, got '{s}'", self.module)),
            Some(v) => bail!("{}: argument '{key}' must be an integer, got {v}", self.module),
        }
    }
    /// A list given as a YAML list or a comma-separated string (Ansible's `type: list`).
    pub fn list(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    v => bail!("{}: argument '{key}' must be a list of strings, got {v}", self.module),
                })
                .collect(),
            Some(Value::String(s)) => Ok(s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()),
            Some(Value::Number(n)) => Ok(vec![n.to_string()]),
            Some(v) => bail!("{}: argument '{key}' must be a list, got {v}", self.module),
        }
    }
    /// A string argument with choices in the spec (checked there); its default comes from the spec too.
    pub fn choice(&self, key: &str) -> Result<String> {
        self.req(key)
    }
}
