//! The role engine: playbooks and roles as data, modules in Rust, the executor, output.
pub mod cli;
pub mod modules;
pub mod run;
