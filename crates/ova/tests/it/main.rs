//! The integration tests of this crate: one binary, one module per file (fewer, smaller binaries
//! build and link faster than one per file). Run one file with `cargo test --test it -- <file>::`.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod common;
mod fuzz;
mod ovf_schema;
mod roundtrip;
mod verify_and_atomic;
mod verify_rejects;
mod virt_v2v;
