//! Configuration data model: YAML with Ansible's semantics, inventories, variables and templates.
#![allow(clippy::result_large_err)] // ConfigError carries its source text for miette; errors are the cold path
pub mod error;
pub mod fs;
pub mod inventory;
pub mod template;
pub mod vars;
pub mod yaml;
