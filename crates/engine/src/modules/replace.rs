//! replace: every match of a (multiline) regexp replaced, optionally only between `after` and `before`.
use super::edit::{edit, EditOpts};
use super::util::{py_repl, regex, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::Result;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &["path|dest|destfile|name", "regexp", "replace", "after", "before", "backup", "owner", "group", "mode", "validate", "encoding", "unsafe_writes", "others"],
    required: &["path", "regexp"],
};

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("replace", &SPEC, args)?;
    let path = a.req("path")?;
    // Python's re.MULTILINE: ^ and $ match at line boundaries
    let re = regex("replace", "regexp", &format!("(?m){}", a.req("regexp")?))?;
    let repl = py_repl(&a.str("replace")?.unwrap_or_default());
    let after = a.str("after")?.map(|p| regex("replace", "after", &format!("(?m){p}"))).transpose()?;
    let before = a.str("before")?.map(|p| regex("replace", "before", &format!("(?m){p}"))).transpose()?;
    let opts = EditOpts { create: false, ..EditOpts::from_args(&a, path, false)? };
    edit(ctx, "replace", opts, |t| {
        let start = match &after {
            Some(r) => match r.find(t) {
                Some(m) => m.end(),
                None => return Ok((t.to_string(), String::new())),
            },
            None => 0,
        };
        let end = match &before {
            Some(r) => match r.find(&t[start..]) {
                Some(m) => start + m.start(),
                None => return Ok((t.to_string(), String::new())),
            },
            None => t.len(),
        };
        let section = &t[start..end];
        let n = re.find_iter(section).count();
        let new = re.replace_all(section, repl.as_str());
        let out = format!("{}{}{}", &t[..start], new, &t[end..]);
        Ok((out, if n > 0 { format!("{n} replacements made") } else { String::new() }))
    })
    .await
}
