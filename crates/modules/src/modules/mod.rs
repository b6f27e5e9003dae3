//! The modules, one file each. `ALL` is the list the registry serves.
use crate::module::Module;

// general
mod ping;

// files
mod blockinfile;
mod copy;
mod fetch;
mod file;
mod lineinfile;
mod replace;
mod slurp;
mod stat;
mod template;
mod unarchive;

// system

// packages

pub static ALL: &[&dyn Module] = &[
    // general
    &ping::Ping,
    // files
    &file::File,
    &copy::Copy,
    &template::Template,
    &lineinfile::LineInFile,
    &blockinfile::BlockInFile,
    &replace::Replace,
    &stat::Stat,
    &slurp::Slurp,
    &fetch::Fetch,
    &unarchive::Unarchive,
    //
    // system
    //
    // packages
    //
];
