//! Process-wide cache of jump-host connections: every target behind the same bastion tunnels through
//! one bastion connection (one direct-tcpip channel per target) instead of one SSH login each.
use super::fail::Fail;
use super::resolve::Endpoint;
use super::session::SshSession;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

enum State {
    Up(Arc<SshSession>),
    /// Remember a failure briefly so 500 hosts behind a dead bastion fail fast instead of each waiting
    /// for its own connect timeout; retried after FAILURE_TTL.
    Failed(Fail, Instant),
}

const FAILURE_TTL: Duration = Duration::from_secs(30);

type Slot = Arc<tokio::sync::Mutex<Option<State>>>;
static JUMPS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);

fn key(hops: &[Endpoint]) -> String {
    // The policy and known_hosts files are part of the key: a connection verified under one
    // configuration must not be handed to a caller that asked for another.
    hops.iter().map(|e| format!("{}|{:?}|{:?}", e.spec(), e.policy, e.known_hosts)).collect::<Vec<_>>().join(" -> ")
}

/// Connect (or reuse) every hop in order and return the last one, through which the target is reached.
pub(crate) async fn through(hops: &[Endpoint]) -> Result<Arc<SshSession>, Fail> {
    let mut upstream: Option<Arc<SshSession>> = None;
    for i in 0..hops.len() {
        let slot = {
            let mut map = JUMPS.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key(&hops[..=i])).or_default().clone()
        };
        // One connect attempt per hop at a time; everyone else waits and reuses it.
        let mut state = slot.lock().await;
        match &*state {
            Some(State::Up(s)) if !s.is_closed() => {
                upstream = Some(s.clone());
                continue;
            }
            Some(State::Failed(f, at)) if at.elapsed() < FAILURE_TTL => {
                return Err(f.clone().context(&format!("jump host {}", hops[i].label)));
            }
            _ => {}
        }
        match SshSession::open(&hops[i], upstream.clone()).await {
            Ok(s) => {
                *state = Some(State::Up(s.clone()));
                upstream = Some(s);
            }
            Err(f) => {
                *state = Some(State::Failed(f.clone(), Instant::now()));
                return Err(f.context(&format!("jump host {}", hops[i].label)));
            }
        }
    }
    upstream.ok_or_else(|| Fail::new(super::fail::Kind::Other, "empty jump chain"))
}

/// Disconnect all cached jump connections (end of run).
pub async fn close_jump_hosts() {
    let slots: Vec<Slot> = JUMPS.lock().unwrap_or_else(|p| p.into_inner()).drain().map(|(_, v)| v).collect();
    for s in slots {
        if let Some(State::Up(sess)) = s.lock().await.take() {
            sess.disconnect().await;
        }
    }
}

/// Number of live cached jump connections (for tests and diagnostics).
pub fn jump_connection_count() -> usize {
    let slots: Vec<Slot> = JUMPS.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
    slots.iter().filter(|s| matches!(s.try_lock().as_deref(), Ok(Some(State::Up(x))) if !x.is_closed())).count()
}
