//! The contract every module follows.
use crate::args::Args;
use crate::context::ModuleCtx;
use crate::plan::{ModuleResult, Outcome, Plan};
use crate::spec::ArgSpec;
use crate::util::{failed, failed_exec};
use anyhow::Result;

/// How a module behaves under `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// The plan predicts exactly what a run does.
    Predicts,
    /// A plan with steps cannot be predicted (command without creates/removes): in check mode the task
    /// is skipped, as Ansible does; a plan without steps (creates exists) is reported as is.
    SkipsChanges,
}

#[async_trait::async_trait]
pub trait Module: Send + Sync {
    /// The canonical name (`copy`).
    fn name(&self) -> &'static str;
    /// Other names Ansible knows it by (`yum` for `dnf`, `systemd_service` for `systemd`).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    fn spec(&self) -> &'static ArgSpec;
    fn check_mode(&self) -> CheckMode {
        CheckMode::Predicts
    }
    /// Check-mode support can depend on the arguments (command with `creates:` predicts; without it the
    /// task is skipped in check mode). The default is `check_mode()`.
    fn check_mode_of(&self, _args: &Args) -> CheckMode {
        self.check_mode()
    }
    /// Read the host, decide, change nothing. `Err` for bad arguments and transport failures; a plan
    /// whose result is `failed` when the host says no.
    async fn plan(&self, args: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan>;
    /// The result after the steps ran (one outcome per step that ran, all of them successful unless the
    /// last failed). The default reports the plan's result, the first failure, and a backup file.
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        default_finish(planned, outcomes)
    }
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
                let mut f = failed(format!("failed to validate: {}", stderr.trim()));
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
