//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod journey;
mod roles_gpu;
mod roles_lab;
mod support;
