//! The engine's door to the modules crate: run a module by name, check a task's arguments, resolve a
//! task key to its module. Every module lives in mdxconf-modules; check mode is decided in one place,
//! `executor::module_call`.
//!
//! Conventions for callers (the executor):
//! - `validate_args(name, args)` checks a task's arguments against the module's spec before any host is
//!   touched; the templated values are checked again when the module runs.
//! - `run_module` returns `Err` for bad arguments and transport failures (downcast to
//!   `mdxconf_transport::TransportError` to tell an unreachable host), and `Ok` with `failed: true` when the
//!   host said no (a package that does not exist, a validate command that rejects a file, ...).
//!
//! Tested on real hosts (crates/engine/tests/it/modules_*.rs): files and commands on the local connection,
//! packages, users and apt sources in a Debian 12 chroot, mount with a real tmpfs, dnf with real RPMs in
//! a temp installroot; service/systemd, hostname, live sysctl and modprobe on a booted VM (modules_vm,
//! run by scripts/test-vm-modules.sh). Plans alone: crates/modules/tests/plans.
use mdxconf_config::template::Templater;
use mdxconf_modules::{Entry, EntryKind};
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::path::PathBuf;

pub use mdxconf_modules::{Diff, ModuleResult};

/// What a module call sees. `args` are already templated by the executor.
pub struct ModuleCtx<'a> {
    pub conn: &'a dyn Connection,
    /// `become` user when escalation is on (usually "root")
    pub become_user: Option<&'a str>,
    /// Check mode: plan and report, change nothing
    pub check: bool,
    pub diff: bool,
    /// Host variables (for `template` rendering)
    pub vars: &'a Value,
    pub templater: &'a Templater,
    /// Role directories for `copy src:` (files/) and `template src:` (templates/) lookups; then cwd
    pub search_dirs: Vec<PathBuf>,
}

/// Check a task's arguments (canonical or prefixed module name) before any host is touched.
pub fn validate_args(name: &str, args: &Map<String, Value>) -> Result<(), String> {
    let entry = mdxconf_modules::lookup(name).ok_or_else(|| format!("unknown module '{name}'"))?;
    entry.check(args, mdxconf_modules::spec::Phase::Parse).map_err(|e| e.msg)
}

/// Run a module on the context's host. Control modules (set_fact, assert, meta, include_*) are the
/// executor's; they never come here.
pub async fn run_module(name: &str, args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> {
    match mdxconf_modules::lookup(name) {
        Some(Entry { kind: EntryKind::Module(m), .. }) => {
            let mctx = mdxconf_modules::ModuleCtx {
                conn: ctx.conn,
                become_user: ctx.become_user,
                diff: ctx.diff,
                vars: ctx.vars,
                templater: ctx.templater,
                search_dirs: ctx.search_dirs.clone(),
            };
            crate::executor::module_call::call(m, args, &mctx, ctx.check).await
        }
        Some(Entry { kind: EntryKind::Refused(why), .. }) => anyhow::bail!("{why}"),
        Some(Entry { kind: EntryKind::Control, name, .. }) => anyhow::bail!("'{name}' is executed by the executor, not by run_module"),
        None => anyhow::bail!("unknown module '{name}'"),
    }
}

/// Canonical module name for a task key (`ansible.builtin.copy` -> `copy`), None if not a module.
pub fn canonical_name(key: &str) -> Option<&'static str> {
    mdxconf_modules::canonical_name(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names_and_args() {
        assert_eq!(canonical_name("ansible.builtin.copy"), Some("copy"));
        assert_eq!(canonical_name("set_fact"), Some("set_fact"));
        assert_eq!(canonical_name("when"), None);
        assert_eq!(canonical_name("ansible.posix.mount"), Some("mount"));
        assert_eq!(canonical_name("community.general.modprobe"), Some("modprobe"));
        assert_eq!(canonical_name("ansible.builtin.systemd_service"), Some("systemd"));
        assert_eq!(canonical_name("yum"), Some("dnf"));
        assert_eq!(canonical_name("apt_get"), Some("apt"));
        assert_eq!(canonical_name("gather_facts"), Some("setup"));
        assert!(validate_args("get_url", &Map::new()).unwrap_err().contains("internet"));
        assert!(validate_args("no_such_module", &Map::new()).unwrap_err().contains("unknown module"));
        let mut m = Map::new();
        m.insert("dest".into(), "/x".into());
        m.insert("bogus".into(), 1.into());
        assert!(validate_args("copy", &m).unwrap_err().contains("'bogus'"));
        m.remove("bogus");
        assert!(validate_args("copy", &m).is_ok());
        m.remove("dest");
        assert!(validate_args("copy", &m).unwrap_err().contains("'dest'"));
    }
}
