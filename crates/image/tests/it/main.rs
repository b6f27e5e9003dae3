//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod build_debian;
mod build_efi;
mod build_errors;
mod catalogue;
mod common;
mod definitions;
mod diff;
mod fuzz;
mod installer_http;
mod installer_iso;
mod prune;
mod qemu_control;
mod refresh;
mod report;
mod schedule;
mod schedule_vm;
