//! State readers: one probe script and one pure parser per kind of host state.
pub mod archive;
pub mod file;
pub mod files;
pub mod source;
pub mod stat;
