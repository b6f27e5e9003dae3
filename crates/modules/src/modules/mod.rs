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
mod command;
mod group;
mod hostname;
mod modprobe;
mod mount;
mod service;
mod setup;
mod sysctl;
mod user;
mod wait_for;

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

// more
mod assemble;
mod find;
mod getent;
mod script;
mod tempfile;

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
    &command::Command,
    &command::Shell,
    &command::Raw,
    &service::Service,
    &service::Systemd,
    &user::UserModule,
    &group::Group,
    &mount::Mount,
    &sysctl::Sysctl,
    &hostname::Hostname,
    &modprobe::Modprobe,
    &setup::Setup,
    &wait_for::WaitFor,
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
    //
    // more
    &find::Find,
    &getent::Getent,
    &tempfile::Tempfile,
    &assemble::Assemble,
    &script::Script,
];
