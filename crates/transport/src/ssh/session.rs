//! One authenticated SSH connection (to a jump host or a target) and command execution on it.
use super::auth::authenticate;
use super::fail::{from_russh, Fail, Kind};
use super::handler::Client;
use super::resolve::Endpoint;
use crate::ExecOutput;
use russh::client::{self, Handle};
use russh::keys::ssh_key::Algorithm;
use russh::ChannelMsg;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long sending a command's stdin may make no progress before the exec fails
/// (MDXCONF_SSH_STALL_TIMEOUT seconds, default 600). A remote command that stops reading, or a
/// connection whose window never reopens, then gives a clear error instead of a run that never ends.
fn stdin_stall_timeout() -> Duration {
    let secs = std::env::var("MDXCONF_SSH_STALL_TIMEOUT").ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0).unwrap_or(600);
    Duration::from_secs(secs)
}

/// Stdin goes out in pieces of this size, so the stall timeout measures progress, not total time.
const STDIN_PIECE: usize = 256 * 1024;

enum StdinError {
    Ssh(russh::Error),
    Stalled(Duration),
}

/// OpenSSH's default MaxSessions is 10: more simultaneous session channels on one connection are
/// refused, so we queue beyond that. Override with MDXCONF_SSH_MAX_SESSIONS.
fn max_sessions() -> usize {
    std::env::var("MDXCONF_SSH_MAX_SESSIONS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(10)
}

pub(crate) struct SshSession {
    pub handle: Handle<Client>,
    pub label: String,
    slots: Semaphore,
    /// Keeps the jump connection alive as long as anything tunnels through it.
    _upstream: Option<Arc<SshSession>>,
}

/// russh's defaults (1 GiB each way, one hour). MDXCONF_SSH_REKEY_BYTES lowers the byte limits so
/// tests can make key re-exchanges happen in the middle of transfers.
fn rekey_limits() -> russh::Limits {
    let d = russh::Limits::default();
    match std::env::var("MDXCONF_SSH_REKEY_BYTES").ok().and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0) {
        Some(n) => russh::Limits::new(n.min(1 << 30), n.min(1 << 30), d.rekey_time_limit),
        None => d,
    }
}

/// Put the host key types already in known_hosts first, so the server proves itself with a key we
/// can verify (OpenSSH does the same). Host certificates are asked for only when an
/// `@cert-authority` line covers the host: russh advertises certificate algorithms ahead of plain
/// ones, which would otherwise override that ordering for hosts we know by plain key.
fn client_config(ep: &Endpoint) -> Arc<client::Config> {
    let known = crate::known_hosts::known_algorithms(&ep.known_hosts, &ep.known_hosts_name);
    let mut preferred = russh::Preferred::default();
    if !known.is_empty() {
        let is_known = |a: &Algorithm| known.iter().any(|k| k == a || (matches!(k, Algorithm::Rsa { .. }) && matches!(a, Algorithm::Rsa { .. })));
        let mut keys: Vec<Algorithm> = preferred.key.iter().filter(|a| is_known(a)).cloned().collect();
        keys.extend(preferred.key.iter().filter(|a| !is_known(a)).cloned());
        preferred.key = Cow::Owned(keys);
    }
    if crate::host_cert::has_cert_authority(&ep.known_hosts, &ep.known_hosts_name) {
        preferred.host_key_certificates = preferred.key.clone();
    }
    Arc::new(client::Config {
        preferred,
        keepalive_interval: Some(ep.keepalive),
        keepalive_max: 3,
        inactivity_timeout: None,
        nodelay: true,
        limits: rekey_limits(),
        ..Default::default()
    })
}

impl SshSession {
    /// Connect (directly, or through `upstream` with a direct-tcpip channel), verify the host key and
    /// authenticate, all within the endpoint's connect timeout.
    pub async fn open(ep: &Endpoint, upstream: Option<Arc<SshSession>>) -> Result<Arc<SshSession>, Fail> {
        let failure = Arc::new(Mutex::new(None));
        let handler = Client {
            port: ep.port,
            host: ep.host.clone(),
            known_hosts: ep.known_hosts.clone(),
            known_hosts_name: ep.known_hosts_name.clone(),
            cert_principal: ep.cert_principal.clone(),
            policy: ep.policy,
            via: upstream.as_ref().map(|u| u.label.clone()),
            failure: failure.clone(),
        };
        let config = client_config(ep);
        let addr = format!("{}:{}", ep.host, ep.port);
        let work = async {
            let connected = match &upstream {
                None => {
                    let tcp =
                        tokio::net::TcpStream::connect((ep.host.as_str(), ep.port)).await.map_err(|e| Fail::new(Kind::Unreachable, format!("cannot connect to {addr}: {e}")))?;
                    let _ = tcp.set_nodelay(true);
                    client::connect_stream(config, tcp, handler).await
                }
                Some(up) => {
                    let ch = up
                        .handle
                        .channel_open_direct_tcpip(ep.host.clone(), ep.port as u32, "127.0.0.1", 0)
                        .await
                        .map_err(|e| Fail::new(Kind::Unreachable, format!("jump host {} cannot reach {addr}: {e}", up.label)))?;
                    client::connect_stream(config, ch.into_stream(), handler).await
                }
            };
            let mut handle =
                connected.map_err(|e| failure.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_else(|| from_russh(&e).context(&format!("SSH handshake with {addr}"))))?;
            authenticate(&mut handle, ep).await?;
            Ok::<_, Fail>(handle)
        };
        let handle = match tokio::time::timeout(ep.connect_timeout, work).await {
            Ok(r) => r?,
            Err(_) => return Err(Fail::new(Kind::Unreachable, format!("connecting to {addr} timed out after {}s", ep.connect_timeout.as_secs_f32()))),
        };
        Ok(Arc::new(SshSession { handle, label: ep.label.clone(), slots: Semaphore::new(max_sessions()), _upstream: upstream }))
    }

    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    async fn open_channel(&self) -> Result<russh::Channel<client::Msg>, Fail> {
        let mut delay = Duration::from_millis(20);
        for attempt in 0.. {
            match self.handle.channel_open_session().await {
                Ok(ch) => return Ok(ch),
                // The server's MaxSessions may be lower than our limit: wait for a channel to close.
                Err(russh::Error::ChannelOpenFailure(reason)) if attempt < 50 && !self.is_closed() => {
                    tracing::debug!("{}: session channel refused ({reason:?}), retrying", self.label);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                Err(e) => return Err(from_russh(&e).context("cannot open a session channel")),
            }
        }
        unreachable!()
    }

    /// Run one command on its own channel; stdin is written concurrently with reading output so
    /// neither side can block the other (or the whole connection).
    pub async fn exec(&self, cmd: &str, stdin: Option<Vec<u8>>) -> Result<ExecOutput, Fail> {
        let _slot = self.slots.acquire().await.map_err(|_| Fail::new(Kind::Other, "connection shut down"))?;
        let ch = self.open_channel().await?;
        let (mut rd, wr) = ch.split();
        wr.exec(true, cmd.as_bytes()).await.map_err(|e| from_russh(&e).context("exec request failed"))?;
        let stall = stdin_stall_timeout();
        let writer = async {
            if let Some(data) = stdin {
                for piece in data.chunks(STDIN_PIECE) {
                    match tokio::time::timeout(stall, wr.data(piece)).await {
                        Ok(r) => r.map_err(StdinError::Ssh)?,
                        Err(_) => return Err(StdinError::Stalled(stall)),
                    }
                }
            }
            wr.eof().await.map_err(StdinError::Ssh)
        };
        let reader = async {
            let mut out = ExecOutput::default();
            let mut rc: Option<i32> = None;
            let mut refused = false;
            while let Some(msg) = rd.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => rc = Some(exit_status as i32),
                    ChannelMsg::ExitSignal { signal_name, .. } => rc = Some(128 + signal_number(&signal_name)),
                    ChannelMsg::Failure => refused = true,
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            (out, rc, refused)
        };
        let mut writer = std::pin::pin!(writer);
        let mut reader = std::pin::pin!(reader);
        let mut writer_done = false;
        let (mut out, rc, refused) = loop {
            tokio::select! {
                r = &mut reader => break r,
                w = &mut writer, if !writer_done => {
                    writer_done = true;
                    match w {
                        Ok(()) => {}
                        // The command may exit without reading its input; only the exit status matters then.
                        Err(StdinError::Ssh(e)) => tracing::debug!("{}: writing stdin: {e}", self.label),
                        // Dropping the channel halves closes the channel; the connection stays usable.
                        Err(StdinError::Stalled(t)) => {
                            return Err(Fail::new(
                                Kind::Other,
                                format!("sending the command's input stalled: the host accepted no data for {}s (MDXCONF_SSH_STALL_TIMEOUT)", t.as_secs()),
                            ))
                        }
                    }
                }
            }
        };
        if refused {
            return Err(Fail::new(Kind::Other, "the server refused to execute the command"));
        }
        match rc {
            Some(rc) => {
                out.rc = rc;
                Ok(out)
            }
            None if self.is_closed() => Err(Fail::new(Kind::Unreachable, "connection lost while the command ran")),
            None => Err(Fail::new(Kind::Other, "command ended without an exit status")),
        }
    }

    pub async fn disconnect(&self) {
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
    }
}

fn signal_number(sig: &russh::Sig) -> i32 {
    use russh::Sig::*;
    match sig {
        HUP => 1,
        INT => 2,
        QUIT => 3,
        ILL => 4,
        ABRT => 6,
        FPE => 8,
        KILL => 9,
        USR1 => 10,
        SEGV => 11,
        PIPE => 13,
        ALRM => 14,
        TERM => 15,
        Custom(_) => 0,
    }
}
