//! Run a local child process with stdin fed concurrently (no deadlock on large input/output).
use crate::{ExecOutput, TransportError};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

pub(crate) async fn run(host: &str, mut cmd: Command, stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| TransportError::Other { host: host.to_string(), msg: format!("cannot start {:?}: {e}", cmd.as_std().get_program()) })?;
    let feeder = child.stdin.take();
    let feed = async move {
        if let (Some(mut w), Some(data)) = (feeder, stdin) {
            // A command that exits without reading all input closes the pipe: not our error.
            let _ = w.write_all(&data).await;
            let _ = w.shutdown().await;
        }
    };
    let (_, out) = tokio::join!(feed, child.wait_with_output());
    let out = out.map_err(|e| TransportError::Other { host: host.to_string(), msg: format!("wait failed: {e}") })?;
    Ok(ExecOutput { rc: exit_code(out.status), stdout: out.stdout, stderr: out.stderr })
}

/// Shell convention: killed by signal N => 128+N.
pub(crate) fn exit_code(st: std::process::ExitStatus) -> i32 {
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

/// Name of the user this process runs as (for "become the user I already am" checks).
pub(crate) fn current_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or NULL; we copy out immediately.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "root".into())
}
