//! The netboot installers Debian packages (kernel + initrd), by the name a definition uses.
use std::path::PathBuf;

const DEBIAN12_NETBOOT: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

/// Kernel and initrd of a packaged netboot installer.
pub fn netboot_files(name: &str) -> Option<(PathBuf, PathBuf)> {
    match name {
        "debian-12" => Some((PathBuf::from(DEBIAN12_NETBOOT).join("linux"), PathBuf::from(DEBIAN12_NETBOOT).join("initrd.gz"))),
        _ => None,
    }
}
