//! The vSphere releases an OVA can target, and what each accepts: the newest virtual hardware version
//! (`vmx-NN`) and the guest OS identifiers it knows. vCenter refuses to deploy an OVF whose hardware
//! version is newer than the host's, and an unknown guestId deploys as "Other" with the wrong defaults,
//! so an OVA is rendered for the oldest release it must run on.
use anyhow::{bail, Result};
use std::fmt;

/// A vSphere release (major.minor, update level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct VsphereVersion {
    pub major: u8,
    pub minor: u8,
    pub update: u8,
}

/// The oldest release still supported by VMware (7.0 reached end of general support in 2025, 6.7 in
/// 2022): the default target, so an OVA deploys on every mdx I host.
pub const DEFAULT_VSPHERE: VsphereVersion = VsphereVersion { major: 7, minor: 0, update: 0 };

/// (release, newest hardware version). Source: VMware KB 2007240 "Virtual machine hardware versions".
const HARDWARE: &[((u8, u8, u8), u32)] = &[((7, 0, 0), 17), ((7, 0, 1), 18), ((7, 0, 2), 19), ((7, 0, 3), 19), ((8, 0, 0), 20), ((8, 0, 1), 20), ((8, 0, 2), 21), ((8, 0, 3), 21)];

/// (guestId, first release that knows it): the vSphere API's VirtualMachineGuestOsIdentifier.
const GUEST_IDS: &[(&str, (u8, u8, u8))] = &[
    ("ubuntu64Guest", (4, 0, 0)),
    ("debian10_64Guest", (6, 5, 0)),
    ("debian11_64Guest", (7, 0, 0)),
    ("debian12_64Guest", (8, 0, 0)),
    ("rhel8_64Guest", (6, 7, 0)),
    ("rhel9_64Guest", (7, 0, 1)),
    ("centos8_64Guest", (6, 7, 0)),
    ("rockylinux_64Guest", (8, 0, 0)),
    ("almalinux_64Guest", (8, 0, 0)),
    ("otherLinux64Guest", (4, 0, 0)),
    ("other5xLinux64Guest", (7, 0, 1)),
    ("other6xLinux64Guest", (8, 0, 0)),
];

impl VsphereVersion {
    /// "7.0", "7.0u3", "7.0U3", "8.0.2" (update as third number), "8".
    pub fn parse(s: &str) -> Result<VsphereVersion> {
        let t = s.trim().to_ascii_lowercase();
        let (base, update) = match t.split_once('u') {
            Some((b, u)) => (b.to_string(), Some(u.to_string())),
            None => (t.clone(), None),
        };
        let nums: Vec<&str> = base.split('.').collect();
        let num = |x: &str| x.parse::<u8>().ok();
        let (major, minor, third) = match nums.as_slice() {
            [a] => (num(a), Some(0), None),
            [a, b] => (num(a), num(b), None),
            [a, b, c] => (num(a), num(b), num(c)),
            _ => (None, None, None),
        };
        let update = match (update, third) {
            (Some(u), None) => num(&u),
            (None, Some(c)) => Some(c),
            (None, None) => Some(0),
            (Some(_), Some(_)) => None,
        };
        let (Some(major), Some(minor), Some(update)) = (major, minor, update) else {
            bail!("vSphere version {s:?} is not like 7.0, 7.0u3 or 8.0u2");
        };
        let v = VsphereVersion { major, minor, update };
        if v.max_hardware_version().is_none() {
            bail!("vSphere {v} is not a release mdxconf can target (known: {})", known_releases());
        }
        Ok(v)
    }

    /// The newest virtual hardware version this release runs.
    pub fn max_hardware_version(&self) -> Option<u32> {
        HARDWARE.iter().find(|(r, _)| *r == (self.major, self.minor, self.update)).map(|(_, hw)| *hw)
    }

    /// Whether this release knows `guest_id`.
    pub fn knows_guest(&self, guest_id: &str) -> bool {
        GUEST_IDS.iter().any(|(id, since)| *id == guest_id && *since <= (self.major, self.minor, self.update))
    }

    /// The guest id for a distribution release on this vSphere: the exact one when the release knows
    /// it, else the newest id of the same family it knows (Debian 12 on 7.0 is `debian11_64Guest`, as
    /// VMware's compatibility guide lists it), else `other5xLinux64Guest`/`otherLinux64Guest`.
    pub fn guest_id_for(&self, distro: &str, version: &str) -> &'static str {
        let major = version.split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
        let candidates: Vec<&'static str> = match distro {
            "ubuntu" => vec!["ubuntu64Guest"],
            "debian" => (10..=major.max(10)).rev().filter_map(|n| GUEST_IDS.iter().find(|(id, _)| *id == format!("debian{n}_64Guest")).map(|(id, _)| *id)).collect(),
            "rhel" | "redhat" => vec!["rhel9_64Guest", "rhel8_64Guest"],
            "rocky" => vec!["rockylinux_64Guest", "rhel9_64Guest"],
            "almalinux" => vec!["almalinux_64Guest", "rhel9_64Guest"],
            _ => vec![],
        };
        candidates.into_iter().chain(["other5xLinux64Guest", "otherLinux64Guest"]).find(|id| self.knows_guest(id)).unwrap_or("otherLinux64Guest")
    }

    /// Refuses a hardware version or guest id this release cannot deploy.
    pub fn check(&self, vmx_version: u32, guest_id: &str) -> Result<()> {
        let max = self.max_hardware_version().unwrap_or(0);
        if vmx_version > max {
            bail!("virtual hardware vmx-{vmx_version} is newer than vSphere {self} runs (at most vmx-{max})");
        }
        if !self.knows_guest(guest_id) {
            bail!("vSphere {self} does not know the guest OS id {guest_id:?}");
        }
        Ok(())
    }
}

fn known_releases() -> String {
    HARDWARE.iter().map(|((a, b, u), _)| VsphereVersion { major: *a, minor: *b, update: *u }.to_string()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for VsphereVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.update == 0 {
            write!(f, "{}.{}", self.major, self.minor)
        } else {
            write!(f, "{}.{}u{}", self.major, self.minor, self.update)
        }
    }
}

impl Default for VsphereVersion {
    fn default() -> Self {
        DEFAULT_VSPHERE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_spellings() {
        assert_eq!(VsphereVersion::parse("7.0").unwrap(), DEFAULT_VSPHERE);
        assert_eq!(VsphereVersion::parse("7.0U3").unwrap(), VsphereVersion { major: 7, minor: 0, update: 3 });
        assert_eq!(VsphereVersion::parse("8.0.2").unwrap().to_string(), "8.0u2");
        assert_eq!(VsphereVersion::parse("8").unwrap().to_string(), "8.0");
        for bad in ["", "seven", "6.7", "9.0", "7.0u9", "7.0u1.2"] {
            assert!(VsphereVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hardware_and_guest_ids_per_release() {
        let v7 = VsphereVersion::parse("7.0").unwrap();
        let v8 = VsphereVersion::parse("8.0u2").unwrap();
        assert_eq!(v7.max_hardware_version(), Some(17));
        assert_eq!(v8.max_hardware_version(), Some(21));
        assert_eq!(v7.guest_id_for("debian", "12"), "debian11_64Guest");
        assert_eq!(v8.guest_id_for("debian", "12"), "debian12_64Guest");
        assert_eq!(v7.guest_id_for("ubuntu", "24.04"), "ubuntu64Guest");
        assert_eq!(v7.guest_id_for("gentoo", "1"), "otherLinux64Guest");
        assert!(v7.check(17, "debian11_64Guest").is_ok());
        assert!(v7.check(19, "ubuntu64Guest").unwrap_err().to_string().contains("at most vmx-17"));
        assert!(v7.check(17, "debian12_64Guest").unwrap_err().to_string().contains("does not know"));
    }
}
