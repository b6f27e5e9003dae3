//! State readers: one probe script and one pure parser per kind of host state.
pub mod file;
