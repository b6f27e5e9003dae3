//! Minimal QMP client (QEMU Machine Protocol, JSON lines over a unix socket): enough for
//! query-status, system_powerdown and quit. Asynchronous events are skipped; EOF means QEMU is gone.
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

pub struct Qmp {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Qmp {
    /// Connect (retrying while QEMU creates the socket) and negotiate capabilities.
    pub async fn connect(path: &Path, timeout: Duration) -> Result<Qmp> {
        let start = std::time::Instant::now();
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if start.elapsed() < timeout => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("connecting to QMP socket {}", path.display())),
            }
        };
        let (r, w) = stream.into_split();
        let mut q = Qmp { reader: BufReader::new(r), writer: w };
        let greeting = q.read_message().await?;
        if greeting.get("QMP").is_none() {
            bail!("unexpected QMP greeting: {greeting}");
        }
        q.execute("qmp_capabilities", None).await?;
        Ok(q)
    }

    async fn read_message(&mut self) -> Result<Value> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).await.context("reading from QMP")?;
        if n == 0 {
            bail!("QMP connection closed (QEMU exited)");
        }
        serde_json::from_str(&line).with_context(|| format!("bad QMP message: {line}"))
    }

    /// Run a command and return its `return` value (events arriving in between are skipped).
    pub async fn execute(&mut self, cmd: &str, args: Option<Value>) -> Result<Value> {
        let mut msg = json!({ "execute": cmd });
        if let Some(a) = args {
            msg["arguments"] = a;
        }
        let mut line = serde_json::to_string(&msg)?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await.context("writing to QMP")?;
        loop {
            let m = self.read_message().await?;
            if let Some(r) = m.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = m.get("error") {
                return Err(anyhow!("QMP {cmd} failed: {e}"));
            }
            // an event: ignore
        }
    }

    /// "running", "paused", "shutdown", ...
    pub async fn status(&mut self) -> Result<String> {
        let r = self.execute("query-status", None).await?;
        Ok(r.get("status").and_then(Value::as_str).unwrap_or("unknown").to_string())
    }

    /// Wait until the socket closes (QEMU exited) or `timeout` passes; true if it closed.
    pub async fn wait_eof(&mut self, timeout: Duration) -> bool {
        let fut = async {
            loop {
                if self.read_message().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, fut).await.is_ok()
    }
}
