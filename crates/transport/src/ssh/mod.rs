//! SSH connections over russh: one persistent connection per host, one channel per command,
//! ProxyJump chains through shared jump connections.
mod auth;
mod fail;
mod handler;
mod jump;
mod resolve;
mod session;

pub use jump::{close_jump_hosts, jump_connection_count};

use crate::{Connection, ExecOutput, SshTarget, TransportError};
use async_trait::async_trait;
use fail::Fail;
use resolve::Route;
use session::SshSession;
use std::sync::Arc;

pub struct SshConnection {
    name: String,
    user: String,
    route: Route,
    session: tokio::sync::Mutex<Arc<SshSession>>,
}

async fn open_route(route: &Route) -> Result<Arc<SshSession>, Fail> {
    let upstream = if route.jumps.is_empty() { None } else { Some(jump::through(&route.jumps).await?) };
    SshSession::open(&route.target, upstream).await
}

/// Open one SSH connection (through ProxyJump if configured), authenticating with agent, keys, or password.
pub async fn connect_ssh(t: &SshTarget) -> Result<Arc<dyn Connection>, TransportError> {
    Ok(Arc::new(SshConnection::connect(t).await?))
}

impl SshConnection {
    pub async fn connect(t: &SshTarget) -> Result<SshConnection, TransportError> {
        let route = resolve::resolve(t).map_err(|msg| TransportError::Other { host: t.name.clone(), msg })?;
        let session = open_route(&route).await.map_err(|f| f.into_err(&t.name))?;
        Ok(SshConnection { name: t.name.clone(), user: route.target.user.clone(), route, session: tokio::sync::Mutex::new(session) })
    }

    /// `user@host:port` actually connected to, with the jump chain (for messages and tests).
    pub fn describe(&self) -> String {
        let mut s = self.route.target.spec();
        for j in self.route.jumps.iter().rev() {
            s.push_str(" via ");
            s.push_str(&j.spec());
        }
        s
    }

    /// The live session, reconnecting once if the old one died (e.g. the host rebooted).
    async fn current(&self) -> Result<Arc<SshSession>, TransportError> {
        let mut guard = self.session.lock().await;
        if guard.is_closed() {
            tracing::debug!("{}: connection closed, reconnecting", self.name);
            *guard = open_route(&self.route).await.map_err(|f| f.into_err(&self.name))?;
        }
        Ok(guard.clone())
    }
}

#[async_trait]
impl Connection for SshConnection {
    fn host(&self) -> &str {
        &self.name
    }
    fn login_user(&self) -> Option<&str> {
        Some(&self.user)
    }
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
        let s = self.current().await?;
        s.exec(cmd, stdin).await.map_err(|f| f.into_err(&self.name))
    }
    async fn close(&self) {
        self.session.lock().await.disconnect().await;
    }
}
