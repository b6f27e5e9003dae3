//! systemd unit state in one exec: is systemd running, systemctl present, the unit's enablement, activity
//! and load state. One probe script ([`unit_script`]) and its pure parser ([`parse_unit`]).
use crate::util::{kv, sh_quote};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitState {
    /// /run/systemd/system exists (a booted systemd, not a chroot or container without it)
    pub running: bool,
    pub systemctl: bool,
    /// `systemctl is-enabled` exit code and first line (enabled, disabled, static, masked, ...)
    pub enabled_rc: i32,
    pub unit_file_state: String,
    /// `systemctl is-active` (only when running)
    pub active: String,
    /// LoadState (only when running)
    pub load: String,
}

impl UnitState {
    pub fn exists(&self) -> bool {
        !self.unit_file_state.is_empty() || (self.running && !self.load.is_empty() && self.load != "not-found")
    }
    pub fn is_enabled(&self) -> bool {
        self.enabled_rc == 0 && self.unit_file_state != "indirect" && self.unit_file_state != "alias"
    }
    pub fn is_masked(&self) -> bool {
        self.unit_file_state == "masked" || self.unit_file_state == "masked-runtime"
    }
    pub fn is_active(&self) -> bool {
        matches!(self.active.as_str(), "active" | "activating" | "reloading")
    }
}

/// `systemctl` with its scope flags (`--user`, `--no-block`, ...) as `sc`; `unit` None only checks systemd.
pub fn unit_script(sc: &str, unit: Option<&str>) -> String {
    let mut s = String::from("if [ -d /run/systemd/system ]; then echo running=1; fi\nif ! command -v systemctl >/dev/null 2>&1; then echo nosystemctl=1; exit 0; fi\n");
    if let Some(n) = unit {
        let n = sh_quote(n);
        s += &format!("e=$({sc} is-enabled {n} 2>/dev/null); echo \"erc=$?\"; echo \"enabled=$e\" | head -1\n");
        s += &format!("if [ -d /run/systemd/system ]; then echo \"active=$({sc} is-active {n} 2>/dev/null | head -1)\"; echo \"load=$({sc} show -p LoadState --value {n} 2>/dev/null)\"; fi\n");
    }
    s
}

pub fn parse_unit(out: &str) -> UnitState {
    let kv = kv(out);
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    UnitState {
        running: kv.contains_key("running"),
        systemctl: !kv.contains_key("nosystemctl"),
        enabled_rc: kv.get("erc").and_then(|v| v.parse().ok()).unwrap_or(1),
        unit_file_state: get("enabled"),
        active: get("active"),
        load: get("load"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        let u = parse_unit("running=1\nerc=0\nenabled=enabled\nactive=active\nload=loaded\n");
        assert!(u.running && u.systemctl && u.exists() && u.is_enabled() && u.is_active() && !u.is_masked());
        let u = parse_unit("erc=1\nenabled=\n");
        assert!(!u.exists() && !u.is_enabled());
        let u = parse_unit("erc=0\nenabled=alias\n");
        assert!(u.exists() && !u.is_enabled());
        assert!(!parse_unit("nosystemctl=1\n").systemctl);
    }
}
