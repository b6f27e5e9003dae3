//! package_facts: installed packages (dpkg or rpm) as `ansible_facts.packages` {name: [{name, version, arch, source}]}.
use crate::host::packages::{facts_script, parse_facts};
use crate::spec::{l, s, ArgSpec, Def, Phase, SpecError};
use crate::util::{failed_exec, sh, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

pub struct PackageFacts;

static SPEC: ArgSpec = ArgSpec::new(&[l("manager").default(Def::Str("auto")), s("strategy").choices(&["first", "all"]).default(Def::Str("first"))]);

/// Ansible's managers this one reads: auto, apt, rpm; the others are refused.
const KNOWN: &[&str] = &["auto", "apt", "rpm"];

pub(crate) fn rules(args: &Map<String, Value>, _phase: Phase) -> Result<(), SpecError> {
    let names: Vec<String> = match SPEC.value_of(args, "manager") {
        Some(Value::Array(v)) => v.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split(',').map(|p| p.trim().to_string()).collect(),
        _ => vec![],
    };
    match names.iter().find(|m| !m.contains("{{") && !KNOWN.contains(&m.as_str())) {
        Some(m) => Err(SpecError { key: Some("manager".into()), msg: format!("package_facts: manager '{m}' is not supported (auto, apt or rpm)") }),
        None => Ok(()),
    }
}

#[async_trait::async_trait]
impl Module for PackageFacts {
    fn name(&self) -> &'static str {
        "package_facts"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        rules(a.values(), Phase::Run).map_err(|e| anyhow!(e.msg))?;
        let managers = a.list("manager")?;
        let auto = managers.iter().any(|m| m == "auto");
        let apt = auto || managers.iter().any(|m| m == "apt");
        let rpm = auto || managers.iter().any(|m| m == "rpm");
        let out = sh(ctx, &facts_script(apt, rpm, a.choice("strategy")? == "all"), None).await?;
        if out.rc != 0 {
            return Ok(Plan::done(failed_exec("package_facts failed", &out)));
        }
        let mut r = ModuleResult::default();
        r.data.insert("ansible_facts".into(), json!({"packages": parse_facts(&text(&out.stdout))}));
        Ok(Plan::done(r))
    }
}
