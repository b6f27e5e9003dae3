//! One build of one definition, as its stages see it (instead of a dozen loose parameters).
use super::cache::{Cache, Entry};
use super::definition::Definition;
use super::options::BuildOptions;
use super::record::BuildRecord;
use crate::progress::BuildLog;
use std::path::{Path, PathBuf};

/// The base a definition builds on, already built: its definition, cache entry and record.
pub type Base = (Definition, Entry, BuildRecord);

pub struct Build<'a> {
    pub def: &'a Definition,
    pub base: Option<&'a Base>,
    pub cache: &'a Cache,
    /// The cache key this build fills
    pub key: &'a str,
    /// The build directory (`<entry>.partial`), renamed into the cache entry when the build succeeds
    pub dir: &'a Path,
    pub log: &'a BuildLog,
    pub opts: &'a BuildOptions,
    /// The role directories provisioning applies (and the cache key hashed)
    pub roles: &'a [PathBuf],
}

/// How the build VM's first boot is recognised and what it still needs.
pub struct FirstBoot<'a> {
    /// The build id the booted system must show (a rootfs or installer build's own; an overlay's base's)
    pub expect_id: &'a str,
    /// This build's id, written into the guest once it answered
    pub build_id: &'a str,
    /// A rootfs build boots its kernel directly; the bootloader goes in from inside the guest
    pub bootloader_needed: bool,
}
