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
