//! mdxconf's modules and the one contract they follow.
//!
//! Map of the crate:
//! - [`spec`]: a module's argument spec (types, aliases, defaults, choices, required; required_one_of,
//!   mutually_exclusive, required_together, required_if — the shape of Ansible's argument_spec), checked at
//!   parse time on the raw task and again on the templated arguments; [`args`] gives typed access.
//! - [`module`]: the [`Module`] trait — `plan` reads the host and decides without changing anything,
//!   returning a [`Plan`] (the predicted result and diff, and the [`Step`]s that make it so);
//!   [`apply`] runs a plan's steps. Check mode is the caller's business (the engine's executor): it plans,
//!   reports, and applies only outside check mode, so `--check --diff` shows what a real run does.
//! - [`registry`]: every module by name, control modules (run by the executor) and refused ones included;
//!   collection prefixes (`ansible.builtin.` ...) and Ansible's alternative names resolve there.
//! - [`host`]: state readers, one probe script and one pure parser per kind of state.
//! - [`ops`]: the steps that change a host, each once (the atomic file writer, keyed-line edits).
//! - `modules/`: the modules themselves, one file each.
pub mod apply;
pub mod args;
pub mod context;
pub mod host;
pub mod module;
pub mod ops;
pub mod plan;
pub mod registry;
pub mod result;
pub mod spec;
pub mod util;

mod modules;

pub use apply::apply;
pub use args::Args;
pub use context::ModuleCtx;
pub use module::{CheckMode, Module};
pub use plan::{Diff, ModuleResult, Outcome, Plan, Step};
pub use registry::{canonical_name, lookup, Entry, EntryKind};
pub use spec::{ArgSpec, SpecError};
