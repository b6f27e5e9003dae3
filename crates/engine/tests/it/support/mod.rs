//! Shared test helpers.
pub mod modules_support;
