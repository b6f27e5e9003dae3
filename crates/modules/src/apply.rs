//! Run a plan's steps, in order, stopping at the first that fails.
use crate::context::ModuleCtx;
use crate::module::Module;
use crate::ops::write;
use crate::plan::{ModuleResult, Outcome, Plan, Step};
use crate::util::sh;
use anyhow::Result;

/// Apply `plan` for `module`: every step, then the module's `finish`. `Err` only for transport failures.
pub async fn apply(module: &dyn Module, plan: Plan, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let mut outcomes = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        if let Step::Fail(m) = step {
            return Ok(crate::util::failed(m.clone()));
        }
        let o = run_step(step, ctx).await?;
        let ok = succeeded(&o);
        outcomes.push(o);
        if !ok {
            break;
        }
    }
    Ok(module.finish(plan.result, &outcomes))
}

fn succeeded(o: &Outcome) -> bool {
    match o {
        Outcome::Ran { out, .. } => out.rc == 0,
        Outcome::ValidateFailed { .. } => false,
        Outcome::Written { .. } | Outcome::LocalWritten => true,
    }
}

async fn run_step(step: &Step, ctx: &ModuleCtx<'_>) -> Result<Outcome> {
    Ok(match step {
        Step::Run { what, script, stdin } => Outcome::Ran { what: what.clone(), out: sh(ctx, script, stdin.clone()).await? },
        Step::Write(w) => match write::write(ctx, w).await? {
            write::Written::Done { backup } => Outcome::Written { backup },
            write::Written::ValidateFailed { rc, stderr } => Outcome::ValidateFailed { rc, stderr },
        },
        Step::LocalWrite { path, content } => {
            // not config::fs::write_atomic: its temp file is 0600 and replaces an existing file's mode
            crate::ops::local_write::write_local(path, content).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            Outcome::LocalWritten
        }
        Step::Fail(_) => unreachable!("handled before running"),
    })
}
