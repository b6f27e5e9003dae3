//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
mod support;
mod journey;
mod roles_gpu;
mod roles_lab;
