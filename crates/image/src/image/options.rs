//! What `image build` is asked (options) and what it returns (result): leaf types, no logic.
use super::cache::Entry;
pub use super::package_cache_options::PackageCacheMode;
use super::record::BuildRecord;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum OnError {
    /// Stop the VM and remove every temporary file (default)
    #[default]
    Abort,
    /// Keep the VM running and the build directory, and print how to reach it
    Keep,
}

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub cache_dir: Option<PathBuf>,
    /// Rebuild the requested image even when its cache entry is complete (bases stay cached).
    pub force: bool,
    pub on_error: OnError,
    /// No spinners or terminal lines (the build log is still written).
    pub quiet: bool,
    /// Where outputs (qcow2/raw/ova) go; default `output/<name>` under the current directory.
    pub output_dir: Option<PathBuf>,
    /// Extra role search paths.
    pub roles_path: Vec<PathBuf>,
    /// Rebuild (this image and its bases) when their package archives changed since the cached
    /// build; an unchanged archive is a cache hit. For scheduled rebuilds.
    pub refresh: bool,
    /// Whether builds fetch packages through a shared apt-cacher-ng (see package_cache.rs).
    pub package_cache: PackageCacheMode,
    /// Where that cache keeps its files; default `packages/` in the cache directory.
    pub package_cache_dir: Option<PathBuf>,
    /// Set by the run once its package cache listens: the daemon's port on 127.0.0.1.
    pub package_proxy: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct BuildResult {
    pub name: String,
    pub entry: Entry,
    /// true when nothing was rebuilt
    pub cached: bool,
    pub record: BuildRecord,
    pub outputs: Vec<PathBuf>,
}
