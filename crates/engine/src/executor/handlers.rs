//! Handlers: run at the end of each section (or at `meta: flush_handlers`), once, only on hosts
//! where a notifying task changed, in handler definition order; `listen` topics supported.
use super::{Executor, PlayRt};
use crate::playbook::Task;

fn answers_to(handler: &Task, name: &str) -> bool {
    handler.name.as_deref() == Some(name) || handler.listen.iter().any(|l| l == name) || (handler.role.is_some() && handler.display_name() == name)
}

impl Executor {
    pub async fn flush_handlers(&self, prt: &PlayRt<'_>, hosts: &[usize]) {
        if prt.play.handlers.is_empty() {
            return;
        }
        use super::host::HostStatus;
        // force_handlers: hosts that failed still run what they were notified of (not unreachable ones)
        let force = self.opts.force_handlers || prt.play.force_handlers;
        let mut forced = vec![];
        for handler in &prt.play.handlers {
            let targets: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&h| {
                    let st = self.hosts[h].lock();
                    let runs = st.status == HostStatus::Active || (force && st.status == HostStatus::Failed);
                    runs && st.notified.iter().any(|n| answers_to(handler, n))
                })
                .collect();
            for &h in &targets {
                let mut st = self.hosts[h].lock();
                if st.status == HostStatus::Failed {
                    st.status = HostStatus::Active;
                    forced.push(h);
                }
            }
            if targets.is_empty() {
                continue;
            }
            self.run_list(prt, std::slice::from_ref(handler), targets, true).await;
        }
        // a forced host stays failed for the rest of the play
        for h in forced {
            let mut st = self.hosts[h].lock();
            if st.status == HostStatus::Active {
                st.status = HostStatus::Failed;
            }
        }
        for &h in hosts {
            self.hosts[h].lock().notified.clear();
        }
    }
}
