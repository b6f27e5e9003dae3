//! The steps that change a host, each written once.
pub mod attrs;
pub mod edit;
pub mod put;
pub mod transaction;
pub mod write;
