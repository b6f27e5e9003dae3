//! mdx portal helpers: inventory from the portal's VM CSV, first-login password set.
#[cfg(feature = "cli")]
pub mod cli;
pub mod inventory_ini;
pub mod passwdinit;
pub mod tty;
pub mod vm_csv;
