//! Run a plan's steps, in order, stopping at the first that fails.
use crate::context::ModuleCtx;
use crate::module::Module;
use crate::ops::write;
use crate::plan::{ModuleResult, Outcome, Plan, Step};
use crate::util::{failed_exec, sh};
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
        Step::Write(w) => write::write(ctx, w).await?,
        Step::LocalWrite { path, content } => {
            mdxconf_config::fs::write_atomic(path, content).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
            Outcome::LocalWritten
        }
        Step::Fail(_) => unreachable!("handled before running"),
    })
}

/// The plan's result; the first failed step turns it into a failure carrying that step's output.
pub fn default_finish(mut planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
    for o in outcomes {
        match o {
            Outcome::Ran { what, out } if out.rc != 0 => {
                let mut f = failed_exec(what.clone(), out);
                f.diff = std::mem::take(&mut planned.diff);
                return f;
            }
            Outcome::ValidateFailed { rc, stderr } => {
                let mut f = crate::util::failed(format!("failed to validate: {}", stderr.trim()));
                f.data.insert("rc".into(), (*rc).into());
                f.data.insert("stderr".into(), stderr.clone().into());
                return f;
            }
            Outcome::Written { backup: Some(b) } => {
                planned.data.insert("backup_file".into(), b.clone().into());
            }
            _ => {}
        }
    }
    planned
}
