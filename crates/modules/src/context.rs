//! What a module sees while it plans and applies. There is no check-mode flag: a module plans, and only
//! the caller decides whether the plan's steps run.
use mdxconf_config::template::Templater;
use mdxconf_transport::Connection;
use serde_json::Value;
use std::path::PathBuf;

pub struct ModuleCtx<'a> {
    pub conn: &'a dyn Connection,
    /// `become` user when escalation is on (usually "root")
    pub become_user: Option<&'a str>,
    /// Show diffs: modules read the old content only when it will be shown.
    pub diff: bool,
    /// Host variables (for `template` rendering)
    pub vars: &'a Value,
    pub templater: &'a Templater,
    /// Role directories for `copy src:` (files/) and `template src:` (templates/) lookups; then cwd
    pub search_dirs: Vec<PathBuf>,
}
