//! State readers: one probe script and one pure parser per kind of host state.
pub mod account;
pub mod archive;
pub mod facts;
pub mod file;
pub mod files;
pub mod kernel;
pub mod mounts;
pub mod source;
pub mod stat;
pub mod unit;
