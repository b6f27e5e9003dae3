//! The role engine: playbooks and roles as data, modules in Rust, the executor, output.
#[cfg(feature = "cli")]
pub mod cli;
pub mod executor;
pub mod facts;
pub mod modules;
pub mod options;
pub mod output;
pub mod playbook;
pub mod retry;
pub mod run;
pub mod summary;
