//! Configuration data model: YAML with Ansible's semantics, inventories, variables and templates.
//!
//! Map of the crate:
//! - [`yaml`]: YAML 1.1 as Ansible (PyYAML) reads it, with a source position on every node, so any
//!   later error can name file:line:col ([`error`]: miette diagnostics).
//! - [`inventory`]: INI and YAML inventories, host ranges, groups and their vars.
//! - [`vars`]: variable layers and precedence (group_vars/host_vars, play, role, extra vars).
//! - [`template`]: Jinja2 through minijinja (strict undefined) with Ansible's filters, tests and lookups.
//! - [`fs`]: reading files with the errors users need to see.
//! - [`vault`]: Ansible Vault (encrypted files and `!vault` values), and `mdxconf vault`.
pub mod error;
pub mod fs;
pub mod inventory;
pub mod template;
pub mod vars;
pub mod vault;
pub mod yaml;
