//! Every module mdxconf knows, by name: the modules of this crate, the control modules the engine's
//! executor runs itself (named and checked here), and the ones refused with a reason. Collection prefixes
//! and Ansible's alternative names resolve here and nowhere else.
use crate::module::Module;
use crate::modules;
use crate::spec::{b, d, i, l, raw, s, ArgSpec, Phase, SpecError};
use serde_json::{Map, Value};

/// Collections whose prefix is dropped (`ansible.builtin.copy` -> `copy`).
const PREFIXES: &[&str] = &["ansible.builtin.", "ansible.legacy.", "community.general.system.", "community.general.", "ansible.posix.", "ansible.windows."];

#[derive(Clone, Copy)]
pub enum EntryKind {
    Module(&'static dyn Module),
    /// Run by the executor (set_fact, assert, meta, include_*, ...).
    Control,
    /// Known and refused before any host is touched, with the reason.
    Refused(&'static str),
}

#[derive(Clone, Copy)]
pub struct Entry {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub spec: &'static ArgSpec,
    pub kind: EntryKind,
}

impl Entry {
    /// Check a task's arguments as written (templated values pass) or as templated.
    pub fn check(&self, args: &Map<String, Value>, phase: Phase) -> Result<(), SpecError> {
        if let EntryKind::Refused(why) = self.kind {
            return Err(SpecError { key: None, msg: why.to_string() });
        }
        self.spec.check(self.name, args, phase)?;
        extra_rules(self.name, args, phase)
    }
}

const META_ACTIONS: &[&str] = &["flush_handlers", "end_host", "end_play", "noop", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection", "end_batch"];

static SET_FACT: ArgSpec = ArgSpec::new(&[b("cacheable")]).free_keys();
static ASSERT: ArgSpec = ArgSpec::new(&[raw("that").required(), raw("fail_msg").aliases(&["msg"]), raw("success_msg"), b("quiet")]);
static DEBUG: ArgSpec = ArgSpec::new(&[raw("msg"), raw("var"), i("verbosity")]).exclusive(&[&["msg", "var"]]);
static FAIL: ArgSpec = ArgSpec::new(&[raw("msg")]);
static META: ArgSpec = ArgSpec::new(&[s("_raw_params").required().choices(META_ACTIONS)]);
static INCLUDE_TASKS: ArgSpec = ArgSpec::new(&[s("file").aliases(&["_raw_params"]).required(), d("apply")]);
static IMPORT_TASKS: ArgSpec = ArgSpec::new(&[s("file").aliases(&["_raw_params"]).required()]);
static ROLE: ArgSpec = ArgSpec::new(&[
    s("name").required(),
    s("tasks_from"),
    s("vars_from"),
    s("defaults_from"),
    s("handlers_from"),
    d("vars"),
    d("apply"),
    b("public"),
    b("allow_duplicates"),
    b("rolespec_validate"),
]);
static INCLUDE_VARS: ArgSpec = ArgSpec::new(&[
    s("file").aliases(&["_raw_params"]),
    s("dir"),
    s("name"),
    i("depth"),
    s("files_matching"),
    l("ignore_files"),
    l("extensions"),
    b("ignore_unknown_extensions"),
    s("hash_behaviour"),
])
.one_of(&[&["file", "dir"]]);
static REBOOT: ArgSpec = ArgSpec::new(&[
    i("reboot_timeout"),
    i("connect_timeout"),
    i("pre_reboot_delay"),
    i("post_reboot_delay"),
    s("msg"),
    s("test_command"),
    s("boot_time_command"),
    s("reboot_command"),
    l("search_paths"),
]);
static PAUSE: ArgSpec = ArgSpec::new(&[i("seconds"), i("minutes"), s("prompt"), b("echo")]).exclusive(&[&["seconds", "minutes"]]);
static ADD_HOST: ArgSpec = ArgSpec::new(&[s("name").aliases(&["host", "hostname"]).required(), l("groups").aliases(&["group", "groupname"])]).free_keys();
static GROUP_BY: ArgSpec = ArgSpec::new(&[s("key").required(), l("parents")]);
static IMPORT_PLAYBOOK: ArgSpec = ArgSpec::new(&[s("_raw_params")]);
static ANY: ArgSpec = ArgSpec::new(&[]).free_keys();

const fn control(name: &'static str, spec: &'static ArgSpec) -> Entry {
    Entry { name, aliases: &[], spec, kind: EntryKind::Control }
}

static CONTROL: &[Entry] = &[
    control("set_fact", &SET_FACT),
    control("assert", &ASSERT),
    control("debug", &DEBUG),
    control("fail", &FAIL),
    control("meta", &META),
    // `include:` (deprecated, valid in ansible-core 2.14) includes tasks
    Entry { name: "include_tasks", aliases: &["include"], spec: &INCLUDE_TASKS, kind: EntryKind::Control },
    control("import_tasks", &IMPORT_TASKS),
    control("include_role", &ROLE),
    control("import_role", &ROLE),
    control("include_vars", &INCLUDE_VARS),
    control("reboot", &REBOOT),
    control("pause", &PAUSE),
    control("add_host", &ADD_HOST),
    control("group_by", &GROUP_BY),
    control("import_playbook", &IMPORT_PLAYBOOK),
];

static REFUSED: &[Entry] = &[
    Entry {
        name: "get_url",
        aliases: &[],
        spec: &ANY,
        kind: EntryKind::Refused("get_url is not supported: mdxconf runs without internet access; ship the file in the role's files/ and use copy"),
    },
    Entry { name: "set_stats", aliases: &[], spec: &ANY, kind: EntryKind::Refused("module `set_stats` is not supported by mdxconf") },
];

fn module_entry(m: &'static dyn Module) -> Entry {
    Entry { name: m.name(), aliases: m.aliases(), spec: m.spec(), kind: EntryKind::Module(m) }
}

/// Every entry: modules, control modules, refused ones.
pub fn entries() -> impl Iterator<Item = Entry> {
    modules::ALL.iter().map(|m| module_entry(*m)).chain(CONTROL.iter().copied()).chain(REFUSED.iter().copied())
}

/// The entry for a task key (`ansible.builtin.copy`, `yum`, `systemd_service`, ...), None if it is no module.
pub fn lookup(key: &str) -> Option<Entry> {
    let short = PREFIXES.iter().find_map(|p| key.strip_prefix(p)).unwrap_or(key);
    entries().find(|e| e.name == short || e.aliases.contains(&short))
}

/// Canonical module name for a task key, None if not a module.
pub fn canonical_name(key: &str) -> Option<&'static str> {
    lookup(key).map(|e| e.name)
}

/// Rules a spec cannot say.
fn extra_rules(module: &str, args: &Map<String, Value>, phase: Phase) -> Result<(), SpecError> {
    match module {
        // packages: `package` checks its arguments against its backend's spec; refused arguments
        "package" => modules::package::rules(args, phase),
        "apt" => modules::apt::rules(args, phase),
        "pip" => modules::pip::rules(args, phase),
        "apt_key" => modules::apt_key::rules(args, phase),
        "alternatives" => modules::alternatives::rules(args, phase),
        "package_facts" => modules::package_facts::rules(args, phase),
        "set_fact" if args.keys().all(|k| k == "cacheable") => Err(SpecError { key: None, msg: "set_fact needs at least one variable".into() }),
        // a URL source is a download: refused before any host is touched (mdxconf runs offline)
        "unarchive" if args.get("src").and_then(Value::as_str).is_some_and(|s| ["http://", "https://", "ftp://"].iter().any(|p| s.starts_with(p))) => Err(SpecError {
            key: Some("src".into()),
            msg: "unarchive: a URL `src` is a download, and mdxconf runs without internet access; ship the archive in the role's files/ (or put it on the host) instead".into(),
        }),
        "pause" if args.contains_key("prompt") => Err(SpecError { key: Some("prompt".into()), msg: "pause: interactive `prompt` is not supported".into() }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unarchive_of_a_url_is_refused_at_parse_time() {
        let m = json!({"src": "https://example.org/x.tar.gz", "dest": "/opt", "remote_src": true});
        assert!(lookup("unarchive").unwrap().check(m.as_object().unwrap(), Phase::Parse).unwrap_err().msg.contains("internet"));
        let m = json!({"src": "x.tar.gz", "dest": "/opt"});
        assert!(lookup("unarchive").unwrap().check(m.as_object().unwrap(), Phase::Parse).is_ok());
    }

    #[test]
    fn names_prefixes_and_aliases() {
        assert_eq!(canonical_name("set_fact"), Some("set_fact"));
        assert_eq!(canonical_name("ansible.builtin.set_fact"), Some("set_fact"));
        assert_eq!(canonical_name("when"), None);
        assert!(lookup("get_url").unwrap().check(&Map::new(), Phase::Parse).unwrap_err().msg.contains("internet"));
        let m = json!({"_raw_params": "flush_handlers"});
        assert!(lookup("meta").unwrap().check(m.as_object().unwrap(), Phase::Parse).is_ok());
        let m = json!({"_raw_params": "flush"});
        assert!(lookup("meta").unwrap().check(m.as_object().unwrap(), Phase::Parse).unwrap_err().msg.contains("must be one of"));
        // every name is unique across modules, control modules and refused ones
        let mut names: Vec<&str> = entries().flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied())).collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(n, names.len(), "a name is registered twice");
    }
}
