//! The result of a package-manager transaction step (apt-get, dnf, pip): its output goes into the result
//! as Ansible reports it (rc, stdout, stderr, ...), and its failure is the task's failure.
use crate::plan::{ModuleResult, Outcome};
use crate::util::{failed_exec, put_output};

/// `txn`: the `what` of the transaction step; `changed_on_failure`: a failed transaction still reports
/// `changed` (apt: dpkg may have unpacked some packages). Other failing steps fail with their own output.
pub fn finish_transaction(mut planned: ModuleResult, outcomes: &[Outcome], txn: &str, changed_on_failure: bool) -> ModuleResult {
    for o in outcomes {
        let Outcome::Ran { what, out } = o else { continue };
        if what == txn {
            put_output(&mut planned.data, out);
        }
        if out.rc != 0 {
            let mut f = failed_exec(what.clone(), out);
            if what == txn {
                f.changed = changed_on_failure;
                f.diff = std::mem::take(&mut planned.diff);
            }
            return f;
        }
    }
    planned
}
