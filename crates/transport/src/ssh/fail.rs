//! Connection failures without the inventory host attached (so a jump host failure can be cached and
//! reported for every target behind it).
use crate::TransportError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Unreachable,
    HostKey,
    Auth,
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub kind: Kind,
    pub msg: String,
}

impl Fail {
    pub fn new(kind: Kind, msg: impl Into<String>) -> Fail {
        Fail { kind, msg: msg.into() }
    }
    pub fn context(mut self, prefix: &str) -> Fail {
        self.msg = format!("{prefix}: {}", self.msg);
        self
    }
    pub fn into_err(self, host: &str) -> TransportError {
        let host = host.to_string();
        let msg = self.msg;
        match self.kind {
            Kind::Unreachable => TransportError::Unreachable { host, msg },
            Kind::HostKey => TransportError::HostKey { host, msg },
            Kind::Auth => TransportError::Auth { host, msg },
            Kind::Other => TransportError::Other { host, msg },
        }
    }
}

/// russh errors after the TCP connection exists: transport-level trouble means "unreachable",
/// protocol disagreements are "other".
pub(crate) fn from_russh(e: &russh::Error) -> Fail {
    use russh::Error as E;
    let kind = match e {
        E::IO(_)
        | E::Disconnect
        | E::HUP
        | E::ConnectionTimeout
        | E::KeepaliveTimeout
        | E::InactivityTimeout
        | E::SendError
        | E::RecvError
        | E::ChannelOpenFailure(_)
        | E::Elapsed(_) => Kind::Unreachable,
        _ => Kind::Other,
    };
    Fail::new(kind, e.to_string())
}
