//! Integration tests of the modules crate (one binary): plan cases as data.
#![allow(clippy::disallowed_methods)] // fixtures are written plainly
mod plans;
