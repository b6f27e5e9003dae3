//! Configuration data model: YAML with Ansible's semantics, inventories, variables and templates.
pub mod error;
pub mod yaml;
pub mod inventory;
pub mod vars;
pub mod template;
