//! Modules: each idempotent, returning ok/changed/failed and a diff. Dispatch by name.
//!
//! Conventions for callers (the executor):
//! - `validate_args(name, args)` checks names (with Ansible's aliases) and required arguments before any host
//!   is touched; values are checked again when the module runs.
//! - `run_module` returns `Err` for bad arguments and transport failures (downcast to
//!   `mdxconf_transport::TransportError` to tell an unreachable host), and `Ok` with `failed: true` when the
//!   host said no (a package that does not exist, a validate command that rejects a file, ...).
//! - In check mode nothing is changed and `changed`/`diff` predict exactly what a real run would do.
//! - A run that changes nothing costs one exec per task where the module allows it.
//!
//! Tested on real hosts (crates/engine/tests/modules_*.rs): files/commands on the local connection, packages,
//! users and apt sources in a Debian 12 chroot, mount with a real tmpfs. service/systemd, hostname, live
//! sysctl and modprobe need a booted VM (tests/modules_vm.rs, ignored unless MDXCONF_TEST_VM is set);
//! dnf installs real RPMs (rpmbuild + createrepo_c) into a temp installroot (tests/modules_dnf.rs).
use mdxconf_config::template::Templater;
use mdxconf_transport::Connection;
use serde_json::{Map, Value};
use std::path::PathBuf;

mod alternatives;
mod apt;
mod apt_key;
mod apt_repository;
mod blockinfile;
mod command;
mod copy;
mod deb822_repository;
mod debconf;
mod dnf;
mod edit;
mod fetch;
mod file;
mod fileops;
mod group;
mod hostname;
mod lineinfile;
mod modprobe;
mod mount;
mod pip;
mod replace;
mod service;
mod setup;
mod slurp;
mod stat;
mod sysctl;
mod unarchive;
mod user;
mod util;
mod wait_for;

pub use fileops::{apply_symbolic, ModeSpec};
pub use util::parse_bool;

/// What a module sees. `args` are already templated by the executor.
pub struct ModuleCtx<'a> {
    pub conn: &'a dyn Connection,
    /// `become` user when escalation is on (usually "root")
    pub become_user: Option<&'a str>,
    pub check: bool,
    pub diff: bool,
    /// Host variables (for `template` rendering)
    pub vars: &'a Value,
    pub templater: &'a Templater,
    /// Role directory for `copy src:` (files/) and `template src:` (templates/) lookups; falls back to cwd
    pub search_dirs: Vec<PathBuf>,
}

/// One result type for old and new modules (the modules crate's).
pub use mdxconf_modules::{Diff, ModuleResult};

/// Modules executed by the executor itself; `canonical_name` knows them, `run_module` does not run them.
pub const CONTROL_MODULES: &[&str] = &[
    "set_fact",
    "assert",
    "debug",
    "fail",
    "meta",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "include_vars",
    "reboot",
    "pause",
    "add_host",
    "group_by",
    "set_stats",
    "import_playbook",
];

/// Every module `run_module` implements (canonical names).
pub const MODULES: &[&str] = &[
    "command",
    "shell",
    "raw",
    "file",
    "copy",
    "template",
    "lineinfile",
    "blockinfile",
    "replace",
    "stat",
    "slurp",
    "package",
    "apt",
    "dnf",
    "apt_repository",
    "deb822_repository",
    "apt_key",
    "service",
    "systemd",
    "user",
    "group",
    "mount",
    "sysctl",
    "hostname",
    "setup",
    "pip",
    "modprobe",
    "unarchive",
    "wait_for",
    "debconf",
    "alternatives",
    "ping",
    "get_url",
    "package_facts",
    "fetch",
];

/// Modules mdxconf knows but refuses, with the reason (reported before any host is touched).
const REFUSED: &[(&str, &str)] = &[("get_url", "get_url is not supported: mdxconf runs without internet access; ship the file in the role's files/ and use copy")];

const PACKAGE: util::Spec = util::Spec { args: &["name|pkg", "state", "use"], required: &["name"] };
const PACKAGE_FACTS: util::Spec = util::Spec { args: &["manager", "strategy"], required: &[] };
const PING: util::Spec = util::Spec { args: &["data"], required: &[] };

/// Collections whose prefix is dropped (`ansible.builtin.copy` -> `copy`).
const PREFIXES: &[&str] = &["ansible.builtin.", "ansible.legacy.", "community.general.", "ansible.posix.", "community.general.system.", "ansible.windows."];

fn spec(name: &str) -> Option<&'static util::Spec> {
    Some(match name {
        "command" => &command::COMMAND,
        "shell" => &command::SHELL,
        "raw" => &command::RAW,
        "file" => &file::SPEC,
        "copy" => &copy::COPY,
        "template" => &copy::TEMPLATE,
        "lineinfile" => &lineinfile::SPEC,
        "blockinfile" => &blockinfile::SPEC,
        "replace" => &replace::SPEC,
        "stat" => &stat::SPEC,
        "slurp" => &slurp::SPEC,
        "fetch" => &fetch::SPEC,
        "package" => &PACKAGE,
        "apt" => &apt::SPEC,
        "dnf" => &dnf::SPEC,
        "apt_repository" => &apt_repository::SPEC,
        "deb822_repository" => &deb822_repository::SPEC,
        "apt_key" => &apt_key::SPEC,
        "service" | "systemd" => &service::SPEC,
        "user" => &user::SPEC,
        "group" => &group::SPEC,
        "mount" => &mount::SPEC,
        "sysctl" => &sysctl::SPEC,
        "hostname" => &hostname::SPEC,
        "setup" => &setup::SPEC,
        "pip" => &pip::SPEC,
        "modprobe" => &modprobe::SPEC,
        "unarchive" => &unarchive::SPEC,
        "wait_for" => &wait_for::SPEC,
        "debconf" => &debconf::SPEC,
        "alternatives" => &alternatives::SPEC,
        "ping" => &PING,
        "package_facts" => &PACKAGE_FACTS,
        _ => return None,
    })
}

/// Check argument names and required arguments of a (canonical or prefixed) module name.
/// Control modules are the executor's business and always pass here.
pub fn validate_args(name: &str, args: &Map<String, Value>) -> Result<(), String> {
    if let Some(e) = mdxconf_modules::lookup(name) {
        return e.check(args, mdxconf_modules::spec::Phase::Parse).map_err(|e| e.msg);
    }
    let Some(canon) = canonical_name(name) else {
        return Err(format!("unknown module '{name}'"));
    };
    if CONTROL_MODULES.contains(&canon) {
        return Ok(());
    }
    if let Some((_, why)) = REFUSED.iter().find(|(m, _)| *m == canon) {
        return Err(why.to_string());
    }
    if canon == "package" {
        return package_check(args);
    }
    match spec(canon) {
        Some(s) => s.check(canon, args),
        None => Err(format!("module '{canon}' is not implemented by mdxconf")),
    }
}

/// Control modules (set_fact, assert, meta, include_*) are handled by the executor; everything else comes here.
pub async fn run_module(name: &str, args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> {
    if let Some(mdxconf_modules::Entry { kind: mdxconf_modules::EntryKind::Module(m), .. }) = mdxconf_modules::lookup(name) {
        let nctx = mdxconf_modules::ModuleCtx {
            conn: ctx.conn,
            become_user: ctx.become_user,
            diff: ctx.diff,
            vars: ctx.vars,
            templater: ctx.templater,
            search_dirs: ctx.search_dirs.clone(),
        };
        return crate::executor::module_call::call(m, args, &nctx, ctx.check).await;
    }
    let canon = canonical_name(name).ok_or_else(|| anyhow::anyhow!("unknown module '{name}'"))?;
    match canon {
        "command" | "shell" | "raw" => command::run(canon, args, ctx).await,
        "file" => file::run(args, ctx).await,
        "copy" => copy::run_copy(args, ctx).await,
        "template" => copy::run_template(args, ctx).await,
        "lineinfile" => lineinfile::run(args, ctx).await,
        "blockinfile" => blockinfile::run(args, ctx).await,
        "replace" => replace::run(args, ctx).await,
        "stat" => stat::run(args, ctx).await,
        "slurp" => slurp::run(args, ctx).await,
        "fetch" => fetch::run(args, ctx).await,
        "apt" => apt::run(args, ctx).await,
        "dnf" => dnf::run(args, ctx).await,
        "package" => package(args, ctx).await,
        "apt_repository" => apt_repository::run(args, ctx).await,
        "deb822_repository" => deb822_repository::run(args, ctx).await,
        "apt_key" => apt_key::run(args, ctx).await,
        "service" | "systemd" => service::run(canon, args, ctx).await,
        "user" => user::run(args, ctx).await,
        "group" => group::run(args, ctx).await,
        "mount" => mount::run(args, ctx).await,
        "sysctl" => sysctl::run(args, ctx).await,
        "hostname" => hostname::run(args, ctx).await,
        "setup" => setup::run(args, ctx).await,
        "pip" => pip::run(args, ctx).await,
        "modprobe" => modprobe::run(args, ctx).await,
        "unarchive" => unarchive::run(args, ctx).await,
        "wait_for" => wait_for::run(args, ctx).await,
        "debconf" => debconf::run(args, ctx).await,
        "alternatives" => alternatives::run(args, ctx).await,
        "ping" => ping(args, ctx).await,
        "package_facts" => package_facts(args, ctx).await,
        c if REFUSED.iter().any(|(m, _)| *m == c) => anyhow::bail!("{}", REFUSED.iter().find(|(m, _)| *m == c).map(|(_, w)| *w).unwrap_or_default()),
        c if CONTROL_MODULES.contains(&c) => anyhow::bail!("'{c}' is executed by the executor, not by run_module"),
        c => anyhow::bail!("module '{c}' is not implemented by mdxconf"),
    }
}

/// `package`: apt on hosts with dpkg, dnf otherwise (or as `use:` says).
/// `package` takes name/state/use plus any argument of the backend module (passed through, as Ansible does).
fn package_check(args: &Map<String, Value>) -> Result<(), String> {
    let (own, rest): (Map<String, Value>, Map<String, Value>) =
        args.iter().map(|(k, v)| (k.clone(), v.clone())).partition(|(k, _)| ["name", "pkg", "state", "use"].contains(&k.as_str()));
    PACKAGE.check("package", &own)?;
    if apt::SPEC.check("package", &rest).is_ok() || dnf::SPEC.check("package", &rest).is_ok() {
        return Ok(());
    }
    apt::SPEC.check("package", &rest)
}

async fn package(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> {
    package_check(args).map_err(|e| anyhow::anyhow!(e))?;
    let mut inner = args.clone();
    let use_ = inner.remove("use").map(|u| u.as_str().unwrap_or("auto").to_string());
    match use_.as_deref() {
        None | Some("auto") => {
            let r = apt::run(&inner, ctx).await?;
            if r.data.contains_key(apt::NO_APT) {
                return dnf::run(&inner, ctx).await;
            }
            Ok(r)
        }
        Some("apt") => apt::run(&inner, ctx).await,
        Some("dnf") | Some("yum") => dnf::run(&inner, ctx).await,
        Some(u) => anyhow::bail!("package: unsupported package manager '{u}' (apt or dnf)"),
    }
}

/// `package_facts`: installed packages (dpkg or rpm) as `ansible_facts.packages` {name: [{name, version, arch, source}]}.
async fn package_facts(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> {
    util::Args::new("package_facts", &PACKAGE_FACTS, args)?;
    let script = "if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W -f='apt\\t${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\n'; \
                  elif command -v rpm >/dev/null 2>&1; then rpm -qa --qf 'rpm\\tii \\t%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'; fi";
    let out = util::sh(ctx, script, None).await?;
    if out.rc != 0 {
        return Ok(util::failed_exec("package_facts failed", &out));
    }
    let mut pkgs = Map::new();
    for l in util::text(&out.stdout).lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() == 5 && f[1].starts_with("ii") {
            let e = pkgs.entry(f[2].to_string()).or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(v) = e {
                v.push(serde_json::json!({"name": f[2], "version": f[3], "arch": f[4], "source": f[0]}));
            }
        }
    }
    let mut r = ModuleResult::default();
    r.data.insert("ansible_facts".into(), serde_json::json!({"packages": pkgs}));
    Ok(r)
}

/// `ping`: the host runs a command and answers.
async fn ping(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> anyhow::Result<ModuleResult> {
    let a = util::Args::new("ping", &PING, args)?;
    let data = a.str("data")?.unwrap_or_else(|| "pong".into());
    if data == "crash" {
        anyhow::bail!("boom");
    }
    let out = util::sh(ctx, "echo pong", None).await?;
    let mut r = ModuleResult::default();
    if out.rc != 0 {
        return Ok(util::failed_exec("ping failed", &out));
    }
    r.data.insert("ping".into(), data.into());
    Ok(r)
}

/// Canonical module name for a task key (`ansible.builtin.copy` -> `copy`), None if not a module.
pub fn canonical_name(key: &str) -> Option<&'static str> {
    if let Some(c) = mdxconf_modules::canonical_name(key) {
        return Some(c);
    }
    let short = PREFIXES.iter().find_map(|p| key.strip_prefix(p)).unwrap_or(key);
    let short = match short {
        "systemd_service" => "systemd",
        "apt_get" => "apt",
        "yum" => "dnf",
        "gather_facts" => "setup",
        s => s,
    };
    MODULES.iter().chain(CONTROL_MODULES).copied().find(|m| *m == short)
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
        assert!(validate_args("get_url", &Map::new()).unwrap_err().contains("internet"));
        for m in MODULES {
            assert!(spec(m).is_some() || REFUSED.iter().any(|(r, _)| r == m), "{m} has no spec");
        }
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
