//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
#![allow(clippy::await_holding_lock)] // the env lock is held for a whole test on purpose (common::env_shared)
mod auth;
mod common;
mod host_certs;
mod local_chroot;
mod many_puts;
mod password;
mod proxyjump;
mod ssh;
mod stdin_stall;
