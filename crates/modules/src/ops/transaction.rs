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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Diff;
    use mdxconf_transport::ExecOutput;

    fn ran(what: &str, rc: i32, stdout: &str, stderr: &str) -> Outcome {
        Outcome::Ran { what: what.into(), out: ExecOutput { rc, stdout: stdout.into(), stderr: stderr.into() } }
    }

    #[test]
    fn output_and_failures() {
        let planned =
            ModuleResult { changed: true, diff: vec![Diff { path: "packages".into(), before: "a: absent\n".into(), after: "a: installed\n".into() }], ..Default::default() };
        let r = finish_transaction(planned.clone(), &[ran("update failed", 0, "", ""), ran("txn failed", 0, "done\n", "")], "txn failed", true);
        assert!(r.changed && !r.failed && r.data["rc"] == 0 && r.data["stdout"] == "done" && r.diff.len() == 1);
        let r = finish_transaction(planned.clone(), &[ran("txn failed", 100, "", "E: no\n")], "txn failed", true);
        assert!(r.failed && r.changed && r.msg == "txn failed: E: no" && r.data["rc"] == 100 && r.diff.len() == 1);
        let r = finish_transaction(planned.clone(), &[ran("txn failed", 1, "", "x")], "txn failed", false);
        assert!(r.failed && !r.changed);
        // another step's failure is its own, without the transaction's diff
        let r = finish_transaction(planned, &[ran("update failed", 1, "", "net down")], "txn failed", true);
        assert!(r.failed && !r.changed && r.msg == "update failed: net down" && r.diff.is_empty());
    }
}
