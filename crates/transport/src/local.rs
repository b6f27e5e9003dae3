//! `local` connection: commands run on the controller itself via `/bin/sh -c`.
use crate::{process, Connection, ExecOutput, TransportError};
use async_trait::async_trait;

pub struct LocalConnection {
    name: String,
    user: String,
}

impl LocalConnection {
    pub fn new(name: &str) -> Self {
        LocalConnection { name: name.to_string(), user: process::current_user() }
    }
}

#[async_trait]
impl Connection for LocalConnection {
    fn host(&self) -> &str {
        &self.name
    }
    fn login_user(&self) -> Option<&str> {
        Some(&self.user)
    }
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
        let mut c = tokio::process::Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        process::run(&self.name, c, stdin).await
    }
}
