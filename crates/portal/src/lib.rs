//! mdx portal helpers: inventory from the portal's VM CSV, first-login password set.
pub mod cli;
