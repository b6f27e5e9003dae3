//! The steps that change a host, each written once.
pub mod attrs;
pub mod edit;
pub mod local_src;
pub mod local_write;
pub mod put;
pub mod remote_tree;
pub mod transaction;
pub mod write;
