//! chroot connection: commands run inside a directory tree (image builds) as `chroot ROOT /bin/sh -c CMD`.
use crate::{process, Connection, ExecOutput, TransportError};
use async_trait::async_trait;
use std::path::PathBuf;

pub struct ChrootConnection {
    name: String,
    root: PathBuf,
}

impl ChrootConnection {
    pub fn new(name: &str, root: PathBuf) -> Self {
        ChrootConnection { name: name.to_string(), root }
    }
    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

#[async_trait]
impl Connection for ChrootConnection {
    fn host(&self) -> &str {
        &self.name
    }
    /// chroot(8) needs root, so commands inside always run as root.
    fn login_user(&self) -> Option<&str> {
        Some("root")
    }
    async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
        if !self.root.join("bin/sh").exists() {
            return Err(TransportError::Unreachable { host: self.name.clone(), msg: format!("chroot root {} has no /bin/sh", self.root.display()) });
        }
        let mut c = tokio::process::Command::new("chroot");
        c.arg(&self.root).arg("/bin/sh").arg("-c").arg(cmd);
        // The controller's cwd may not exist inside the tree.
        c.current_dir("/");
        process::run(&self.name, c, stdin).await
    }
}
