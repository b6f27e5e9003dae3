//! State readers: one probe script and one pure parser per kind of host state.
pub mod account;
pub mod facts;
pub mod file;
pub mod kernel;
pub mod mounts;
pub mod unit;
