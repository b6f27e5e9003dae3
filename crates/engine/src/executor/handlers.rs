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
        for handler in &prt.play.handlers {
            let targets: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&h| {
                    let st = self.hosts[h].lock();
                    st.status == super::host::HostStatus::Active && st.notified.iter().any(|n| answers_to(handler, n))
                })
                .collect();
            if targets.is_empty() {
                continue;
            }
            self.run_list(prt, std::slice::from_ref(handler), targets, true).await;
        }
        for &h in hosts {
            self.hosts[h].lock().notified.clear();
        }
    }
}
