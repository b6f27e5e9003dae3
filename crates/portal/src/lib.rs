//! mdx portal helpers: inventory from the portal's VM CSV, first-login password set.
//!
//! Map of the crate:
//! - [`vm_csv`]: the portal's VM list (CSV) read and checked; [`inventory_ini`] turns it into an
//!   Ansible inventory (`inventory from-csv`).
//! - [`passwdinit`]: the first-login password change on every VM (over SSH, answering the prompts
//!   through a pseudo terminal: [`tty`]).
#[cfg(feature = "cli")]
pub mod cli;
pub mod inventory_ini;
pub mod passwdinit;
pub mod tty;
pub mod vm_csv;
