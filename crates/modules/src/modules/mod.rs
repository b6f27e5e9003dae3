//! The modules, one file each. `ALL` is the list the registry serves.
use crate::module::Module;

mod ping;

pub static ALL: &[&dyn Module] = &[&ping::Ping];
