//! A tiny HTTP/1.0 file server for installers (preseed.cfg, autoinstall user-data/meta-data).
//! QEMU's user-mode network lets the guest reach the host's 127.0.0.1 as 10.0.2.2, so we bind to
//! loopback only. Every request is logged (memory + file) so builds and tests can see what was fetched.
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub struct HttpServer {
    pub port: u16,
    log: Arc<Mutex<Vec<Request>>>,
    files: Arc<std::sync::RwLock<BTreeMap<String, Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HttpServer {
    /// Serve `files` (URL path without leading slash -> content) on 127.0.0.1:<free port>.
    /// Requests are appended to `log_file` too.
    pub async fn start(files: BTreeMap<String, Vec<u8>>, log_file: Option<PathBuf>) -> Result<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the installer HTTP server on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let files = Arc::new(std::sync::RwLock::new(files));
        let files_out = files.clone();
        let log2 = log.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { continue };
                let files = files.clone();
                let log = log2.clone();
                let log_file = log_file.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut n = 0;
                    // read until the end of the request head
                    while n < buf.len() {
                        match tokio::time::timeout(std::time::Duration::from_secs(10), sock.read(&mut buf[n..])).await {
                            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                            Ok(Ok(k)) => {
                                n += k;
                                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") || buf[..n].windows(2).any(|w| w == b"\n\n") {
                                    break;
                                }
                            }
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let first = head.lines().next().unwrap_or("");
                    let mut parts = first.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let raw_path = parts.next().unwrap_or("/").to_string();
                    let key = raw_path.split('?').next().unwrap_or("").trim_start_matches('/').to_string();
                    let found = files.read().unwrap().get(&key).cloned();
                    let (status, body) = match (method.as_str(), found) {
                        ("GET" | "HEAD", Some(b)) => (200u16, b),
                        ("GET" | "HEAD", None) => (404, b"not found\n".to_vec()),
                        _ => (405, b"method not allowed\n".to_vec()),
                    };
                    let reason = match status {
                        200 => "OK",
                        404 => "Not Found",
                        _ => "Method Not Allowed",
                    };
                    let mut resp = format!("HTTP/1.0 {status} {reason}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
                    if method != "HEAD" {
                        resp.extend_from_slice(&body);
                    }
                    let _ = sock.write_all(&resp).await;
                    let _ = sock.shutdown().await;
                    tracing::info!("installer HTTP: {method} {raw_path} -> {status}");
                    if let Some(lf) = &log_file {
                        use std::io::Write;
                        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(lf) {
                            let _ = writeln!(f, "{method} {raw_path} {status}");
                        }
                    }
                    log.lock().unwrap().push(Request { method, path: raw_path, status });
                });
            }
        });
        Ok(HttpServer { port, log, files: files_out, task })
    }

    /// Add or replace a served file (answer files are rendered once the port is known).
    pub fn set_file(&self, name: &str, content: Vec<u8>) {
        self.files.write().unwrap().insert(name.to_string(), content);
    }

    /// URL of the server as seen from a QEMU user-mode guest.
    pub fn guest_url(&self) -> String {
        format!("http://10.0.2.2:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Whether `path` (e.g. "/preseed.cfg") was served successfully.
    pub fn was_fetched(&self, path: &str) -> bool {
        self.requests().iter().any(|r| r.status == 200 && r.path.split('?').next() == Some(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[tokio::test]
    async fn serves_and_logs() {
        let mut files = BTreeMap::new();
        files.insert("preseed.cfg".to_string(), b"d-i foo".to_vec());
        let s = HttpServer::start(files, None).await.unwrap();
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        c.write_all(b"GET /preseed.cfg HTTP/1.0\r\n\r\n").await.unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.0 200"), "{out}");
        assert!(out.ends_with("d-i foo"));
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        c.write_all(b"GET /nope HTTP/1.0\r\n\r\n").await.unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.0 404"));
        assert!(s.was_fetched("/preseed.cfg"));
        assert!(!s.was_fetched("/nope"));
    }
}
