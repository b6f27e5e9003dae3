//! package: apt on hosts with dpkg, dnf otherwise (or as `use:` says). Any argument of the backend module
//! passes through, as in Ansible; it is checked against that backend's spec (`auto`: either one's).
use super::apt::{self, Apt};
use super::dnf::{self, Dnf};
use crate::spec::{l, s, ArgSpec, Def, Phase, SpecError};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan};
use anyhow::{anyhow, Result};
use serde_json::{Map, Value};

pub struct Package;

static SPEC: ArgSpec = ArgSpec::new(&[l("name").aliases(&["pkg"]).required(), s("state"), s("use").choices(&["auto", "apt", "dnf", "yum"]).default(Def::Str("auto"))]).free_keys();

/// Which backends may run the task, from `use`.
fn backends(args: &Map<String, Value>) -> Vec<&'static dyn Module> {
    match SPEC.value_of(args, "use").and_then(Value::as_str) {
        Some("apt") => vec![&Apt],
        Some("dnf" | "yum") => vec![&Dnf],
        _ => vec![&Apt, &Dnf],
    }
}

/// The task's arguments as the backends see them (`use` removed).
fn backend_args(args: &Map<String, Value>) -> Map<String, Value> {
    args.iter().filter(|(k, _)| k.as_str() != "use").map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The backend's spec accepts the arguments (`auto`: apt's or dnf's; the error is apt's when neither does).
pub(crate) fn rules(args: &Map<String, Value>, phase: Phase) -> Result<(), SpecError> {
    let inner = backend_args(args);
    let mut first = None;
    for m in backends(args) {
        match m.spec().check("package", &inner, phase) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first.expect("at least one backend"))
}

#[async_trait::async_trait]
impl Module for Package {
    fn name(&self) -> &'static str {
        "package"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let mut given = a.values().clone();
        given.extend(a.extra().clone());
        rules(&given, Phase::Run).map_err(|e| anyhow!(e.msg))?;
        let inner = backend_args(&given);
        // the backends whose spec takes these arguments, in order (auto: apt first)
        let fits: Vec<&dyn Module> = backends(&given).into_iter().filter(|m| m.spec().check("package", &inner, Phase::Run).is_ok()).collect();
        for m in &fits {
            let args = Args::new("package", m.spec(), &inner).map_err(|e| anyhow!(e.msg))?;
            if m.name() == "apt" {
                // one probe: no dpkg on the host means dnf (when `use` allows it)
                if let Some(p) = apt::plan_apt(&args, ctx).await? {
                    return Ok(p);
                }
                continue;
            }
            return dnf::plan_dnf(&args, ctx).await;
        }
        Ok(Plan::failed("package: dpkg/apt-get not found on this host (not Debian/Ubuntu?)"))
    }
    /// The backend that planned is the one whose transaction ran.
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        if outcomes.iter().any(|o| matches!(o, Outcome::Ran { what, .. } if what == dnf::TXN)) {
            Dnf.finish(planned, outcomes)
        } else {
            Apt.finish(planned, outcomes)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::registry::lookup;
    use crate::spec::Phase;
    use serde_json::json;

    fn check(module: &str, v: serde_json::Value) -> Result<(), String> {
        lookup(module).unwrap().check(v.as_object().unwrap(), Phase::Parse).map_err(|e| e.msg)
    }

    /// What the loader sees before any host: package's backend arguments and the refused ones.
    #[test]
    fn parse_time_rules() {
        assert!(check("package", json!({"name": "x", "install_recommends": false})).is_ok());
        assert!(check("package", json!({"name": "x", "enablerepo": "{{ repo }}"})).is_ok());
        assert!(check("package", json!({"name": "x", "state": "{{ s }}"})).is_ok());
        assert!(check("package", json!({"name": "x", "bogus": 1})).unwrap_err().contains("package: unsupported argument 'bogus'"));
        assert!(check("package", json!({"name": "x", "use": "apt", "enablerepo": "e"})).unwrap_err().contains("'enablerepo'"));
        assert!(check("ansible.builtin.package", json!({"name": "x", "use": "dnf", "enablerepo": "e"})).is_ok());
        assert!(check("apt", json!({"deb": "http://x/x.deb"})).unwrap_err().contains("deb must be a file on the host"));
        assert!(check("apt", json!({"deb": "/x.deb"})).is_ok());
        assert!(check("apt", json!({"name": "x", "state": "{{ s }}"})).is_ok());
        assert!(check("apt_get", json!({"name": "x", "state": "build-dep"})).unwrap_err().contains("state=build-dep is not supported"));
        assert!(check("yum", json!({"name": "x", "lock_timeout": 30})).is_ok());
        assert!(check("pip", json!({"name": "x", "editable": "yes"})).unwrap_err().contains("editable"));
        assert!(check("apt_key", json!({"url": "https://x/k.asc"})).unwrap_err().contains("network access"));
        assert!(check("alternatives", json!({"name": "x", "path": "/x", "family": "f"})).unwrap_err().contains("family"));
        assert!(check("package_facts", json!({"manager": ["apt", "pacman"]})).unwrap_err().contains("'pacman'"));
        assert!(check("apt_repository", json!({"repo": "deb http://x y z", "codename": "jammy"})).is_ok());
    }
}
