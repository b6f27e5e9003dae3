//! State readers: one probe script and one pure parser per kind of host state.
pub mod account;
pub mod alternatives;
pub mod apt_sources;
pub mod archive;
pub mod debconf;
pub mod facts;
pub mod file;
pub mod files;
pub mod find;
pub mod getent;
pub mod kernel;
pub mod mounts;
pub mod packages;
pub mod pip;
pub mod source;
pub mod stat;
pub mod unit;
