//! The modules, one file each. `ALL` is the list the registry serves.
use crate::module::Module;

// general
mod ping;

// files

// system

// packages
pub(crate) mod alternatives;
pub(crate) mod apt;
pub(crate) mod apt_key;
mod apt_repository;
mod deb822_repository;
mod debconf;
mod dnf;
pub(crate) mod package;
pub(crate) mod package_facts;
pub(crate) mod pip;

pub static ALL: &[&dyn Module] = &[
    // general
    &ping::Ping,
    // files
    //
    // system
    //
    // packages
    &apt::Apt,
    &dnf::Dnf,
    &package::Package,
    &package_facts::PackageFacts,
    &pip::Pip,
    &apt_repository::AptRepository,
    &deb822_repository::Deb822Repository,
    &apt_key::AptKey,
    &debconf::Debconf,
    &alternatives::Alternatives,
];
