//! Integration tests of the modules crate (one binary): plan cases as data.
mod plans;
