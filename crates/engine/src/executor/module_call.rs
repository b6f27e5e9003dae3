//! Where check mode lives: a module plans; outside check mode its plan is applied, in check mode the plan
//! is the report. So what `--check --diff` shows is what a real run does.
use mdxconf_modules::{apply, Args, CheckMode, Module, ModuleCtx, ModuleResult};
use serde_json::{Map, Value};

/// Check the templated arguments against the module's spec, plan, and apply unless `check`.
/// `Err` for bad arguments and transport failures; `Ok` with `failed` when the host said no.
pub async fn call(m: &dyn Module, args: &Map<String, Value>, ctx: &ModuleCtx<'_>, check: bool) -> anyhow::Result<ModuleResult> {
    let a = Args::new(m.name(), m.spec(), args).map_err(|e| anyhow::anyhow!(e.msg))?;
    let plan = m.plan(&a, ctx).await?;
    if plan.result.failed || plan.steps.is_empty() {
        return Ok(plan.result);
    }
    if !check {
        return apply(m, plan, ctx).await;
    }
    match m.check_mode_of(&a) {
        CheckMode::Predicts => Ok(plan.result),
        CheckMode::SkipsChanges => {
            let mut r = plan.result;
            r.skipped = true;
            r.changed = false;
            r.diff.clear();
            if r.msg.is_empty() {
                r.msg = format!("{} would have run if not in check mode", m.name());
            }
            Ok(r)
        }
    }
}
