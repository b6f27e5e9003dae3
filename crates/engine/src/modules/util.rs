//! Shared helpers for modules: argument specs and typed access, shell quoting, running scripts on the host.
use super::ModuleCtx;
use anyhow::{anyhow, bail, Result};
use mdxconf_transport::ExecOutput;
use serde_json::{Map, Value};

/// The pure helpers and the one shell quoting function are the modules crate's (`q` is `sh_quote`).
pub use mdxconf_modules::util::{base64_decode, failed, failed_exec, kv, parse_bool, put_output, py_repl, regex, sh_quote as q, shlex_split, state_diff, text};

/// Accepted arguments of a module. Each entry is `canonical|alias|alias`.
pub struct Spec {
    pub args: &'static [&'static str],
    /// Canonical names; each must be present (under any alias).
    pub required: &'static [&'static str],
}

impl Spec {
    fn entry(&self, key: &str) -> Option<&'static str> {
        self.args.iter().copied().find(|e| e.split('|').any(|a| a == key))
    }
    fn aliases(&self, canonical: &str) -> Option<&'static str> {
        self.args.iter().copied().find(|e| e.split('|').next() == Some(canonical))
    }
    /// Unknown names and missing required arguments; values are checked when the module runs.
    pub fn check(&self, module: &str, args: &Map<String, Value>) -> Result<(), String> {
        for k in args.keys() {
            if self.entry(k).is_none() {
                let mut known: Vec<&str> = self.args.iter().flat_map(|e| e.split('|')).collect();
                known.sort();
                return Err(format!("{module}: unsupported argument '{k}' (supported: {})", known.join(", ")));
            }
        }
        for r in self.required {
            let e = self.aliases(r).unwrap_or(r);
            if !e.split('|').any(|a| args.get(a).is_some_and(|v| !v.is_null())) {
                return Err(format!("{module}: missing required argument '{r}'"));
            }
        }
        Ok(())
    }
}

/// Typed access to a module's arguments through its spec (aliases resolved).
pub struct Args<'a> {
    pub module: &'static str,
    spec: &'static Spec,
    map: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    pub fn new(module: &'static str, spec: &'static Spec, map: &'a Map<String, Value>) -> Result<Self> {
        spec.check(module, map).map_err(|e| anyhow!(e))?;
        Ok(Args { module, spec, map })
    }
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        // a name outside the spec can never have passed `check`, so it is simply absent
        self.spec.aliases(key)?.split('|').find_map(|a| self.map.get(a)).filter(|v| !v.is_null())
    }
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
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
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        self.opt_bool(key).map(|b| b.unwrap_or(default))
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
    /// One of `choices` (after Ansible's synonyms were mapped by the caller), or `default`.
    pub fn choice(&self, key: &str, default: &str, choices: &[&str]) -> Result<String> {
        let v = self.str(key)?.unwrap_or_else(|| default.to_string());
        if choices.contains(&v.as_str()) {
            Ok(v)
        } else {
            bail!("{}: argument '{key}' must be one of {}, got '{v}'", self.module, choices.join(", "))
        }
    }
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }
}

/// Run a script on the host, wrapped for `become` when escalation is on.
pub async fn sh(ctx: &ModuleCtx<'_>, script: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput> {
    // no sudo when the connection already is the become user (chroot, root logins)
    let cmd = mdxconf_transport::become_command(ctx.conn.login_user(), script, ctx.become_user);
    Ok(ctx.conn.exec(&cmd, stdin).await?)
}
