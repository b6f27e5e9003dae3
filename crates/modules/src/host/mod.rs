//! State readers: one probe script and one pure parser per kind of host state.
pub mod alternatives;
pub mod apt_sources;
pub mod debconf;
pub mod file;
pub mod packages;
pub mod pip;
