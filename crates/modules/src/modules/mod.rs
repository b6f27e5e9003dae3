//! The modules, one file each. `ALL` is the list the registry serves.
use crate::module::Module;

// general
mod ping;

// files

// system

// packages

pub static ALL: &[&dyn Module] = &[
    // general
    &ping::Ping,
    // files
    //
    // system
    //
    // packages
    //
];
