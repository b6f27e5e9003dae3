//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
mod common;
mod auth;
mod host_certs;
mod local_chroot;
mod many_puts;
mod password;
mod proxyjump;
mod ssh;
mod stdin_stall;
