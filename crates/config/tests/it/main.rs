//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod fuzz;
mod inventory;
mod inventory_vs_ansible;
mod repo_files_parse;
mod template_filters;
mod template_render;
mod template_vs_ansible;
mod vars;
mod vault_interop;
mod yaml_semantics;
mod yaml_vs_pyyaml;
