//! When a batch stops early: `any_errors_fatal` (also implied by `run_once` and by tasks that bypass
//! the host loop, as in Ansible's linear strategy), `max_fail_percentage`, and `meta: end_batch/end_play`.
use super::host::HostStatus;
use super::{Executor, PlayRt};
use crate::playbook::Task;
use std::sync::atomic::Ordering;

/// How a batch ended early, in increasing strength (the strongest request wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Abort {
    None = 0,
    /// `meta: end_batch`: the next batch still runs
    EndBatch = 1,
    /// `meta: end_play`: no more batches, the next play runs
    EndPlay = 2,
    /// A fatal error or too many failures: Ansible breaks out of the playbook (no later play runs)
    StopRun = 3,
}

impl PlayRt<'_> {
    pub fn abort(&self, a: Abort) {
        self.abort.fetch_max(a as u8, Ordering::Relaxed);
        self.ended.store(true, Ordering::Relaxed);
    }
    pub fn abort_state(&self) -> Abort {
        match self.abort.load(Ordering::Relaxed) {
            0 => Abort::None,
            1 => Abort::EndBatch,
            2 => Abort::EndPlay,
            _ => Abort::StopRun,
        }
    }
}

/// Modules that run once for the batch instead of once per host (Ansible's BYPASS_HOST_LOOP).
pub fn bypasses_host_loop(module: &str) -> bool {
    module == "add_host"
}

impl Executor {
    /// A host that failed for good in this batch: failed outside any block that has a `rescue`
    /// (a rescued failure is not a failure yet, as Ansible's iterator sees it), or unreachable.
    fn failed_for_good(&self, h: usize) -> bool {
        let st = self.hosts[h].lock();
        match st.status {
            HostStatus::Failed => st.rescue_depth == 0,
            HostStatus::Unreachable => true,
            _ => false,
        }
    }

    /// After `task` ran on `active` (hosts that were active when it started): stop the batch when
    /// the failure is fatal or the batch's failures pass `max_fail_percentage`.
    pub fn check_failures(&self, prt: &PlayRt<'_>, task: &Task, active: &[usize]) {
        if prt.ended() {
            return;
        }
        let (any_errors_fatal, run_once, ignore_errors) = match (task.flag_templates.is_empty(), active.first()) {
            (false, Some(&h)) => {
                let ctx = self.build_ctx(prt, Some(task), h);
                let f = |k, plain| self.flag(task, k, &ctx).unwrap_or(plain);
                (f("any_errors_fatal", task.any_errors_fatal), f("run_once", task.run_once), f("ignore_errors", task.ignore_errors))
            }
            _ => (task.any_errors_fatal, task.run_once, task.ignore_errors),
        };
        let fatal = (any_errors_fatal || run_once || bypasses_host_loop(task.module_name())) && !ignore_errors;
        if fatal && active.iter().any(|&h| self.failed_for_good(h)) {
            self.stop_batch(prt);
            return;
        }
        if let Some(pct) = prt.play.max_fail_percentage {
            // Ansible counts failed (not unreachable) hosts of the batch against the batch size.
            let failed = prt
                .hosts
                .iter()
                .filter(|&&h| {
                    let st = self.hosts[h].lock();
                    st.status == HostStatus::Failed && st.rescue_depth == 0
                })
                .count();
            if !prt.hosts.is_empty() && failed as f64 / prt.hosts.len() as f64 > pct / 100.0 {
                self.stop_batch(prt);
            }
        }
    }

    /// Every host still running in the batch stops after the current task: not failed, just ended
    /// (the recap shows them as they were), and no later batch or play runs.
    fn stop_batch(&self, prt: &PlayRt<'_>) {
        prt.abort(Abort::StopRun);
        for &h in &prt.hosts {
            let mut st = self.hosts[h].lock();
            if st.status == HostStatus::Active {
                st.status = HostStatus::Ended;
            }
        }
        self.out.no_more_hosts();
    }
}
