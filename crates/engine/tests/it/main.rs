//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod apply_vm;
mod bad_input;
mod common;
mod fuzz;
mod interrupts;
mod library_api;
mod logic_local;
mod modules_chroot;
mod modules_commands;
mod modules_dnf;
mod modules_fetch;
mod modules_files;
mod modules_more;
mod modules_vm;
mod shard;
mod sshd_features;
mod sshd_play_control;
mod sshd_role;
mod support;
mod vault_local;
