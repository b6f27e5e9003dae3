//! setup (alias gather_facts): the host's facts in one exec, under data["ansible_facts"].
use crate::host::facts::{facts_from, glob_match, SCRIPT};
use crate::spec::{i, l, s, ArgSpec};
use crate::util::{sh, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use serde_json::Value;

pub struct Setup;

static SPEC: ArgSpec = ArgSpec::new(&[
    // every fact is gathered in the one exec anyway: a subset would save nothing
    l("gather_subset").ignored(),
    l("filter"),
    i("gather_timeout").ignored(),
    // local facts (facts.d) are not implemented: refused in plan when given
    s("fact_path"),
]);

#[async_trait::async_trait]
impl Module for Setup {
    fn name(&self) -> &'static str {
        "setup"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["gather_facts"]
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        if a.get("fact_path").is_some() {
            bail!("setup: fact_path (local facts, ansible_local) is not supported by mdxconf");
        }
        let filters = a.list("filter")?;
        let out = sh(ctx, SCRIPT, None).await?;
        if out.rc != 0 && out.stdout.is_empty() {
            bail!("setup: gathering facts failed: {}", text(&out.stderr).trim());
        }
        let mut facts = facts_from(&text(&out.stdout));
        if !filters.is_empty() {
            facts.retain(|k, _| filters.iter().any(|f| glob_match(f, k)));
        }
        let mut r = ModuleResult::default();
        r.data.insert("ansible_facts".into(), Value::Object(facts));
        Ok(Plan::done(r))
    }
}
