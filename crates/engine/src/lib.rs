//! The role engine: Ansible playbooks and roles read unchanged and applied over SSH.
//!
//! Map of the crate (the public surface is `run`, `modules` and, with the `cli` feature, `cli`):
//! - [`run`]: the entry point — load a playbook and inventory, run it, return a [`run::RunSummary`]
//!   ([`options`] and [`summary`] are its leaf types).
//! - `playbook`: the grammar (plays, tasks, blocks, roles) parsed from YAML with file:line:col errors and
//!   checked before any host is touched (module arguments against the modules crate's specs).
//! - `executor`: runs plays over hosts — batches, loops, conditions, handlers, delegation, control
//!   modules (set_fact, include_*, meta ...); `executor::module_call` is where check mode lives.
//! - [`modules`]: the engine's door to the modules crate (`run_module`, `validate_args`).
//! - [`ansible_cfg`]: ansible.cfg, found and read as ansible-playbook does.
//! - `facts`, `output` (PLAY RECAP, `--format json`), `retry` (retry files).
pub mod ansible_cfg;
#[cfg(feature = "cli")]
pub mod cli;
pub(crate) mod executor;
pub(crate) mod facts;
pub mod interrupt;
pub mod modules;
pub mod options;
pub(crate) mod output;
pub(crate) mod playbook;
pub(crate) mod retry;
pub mod run;
pub mod shard;
pub mod summary;
/// How a host's `ansible_*` variables become an SSH target (public for benches/apply's floor, which
/// must connect exactly as `apply` does).
pub use executor::connect::ssh_target;
