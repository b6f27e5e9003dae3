//! In-place text edits (lineinfile, blockinfile, replace, sysctl, mount's fstab): one exec reads state and
//! content, the edit is computed in Rust, and the plan writes the whole file atomically only when the
//! content or attributes change. [`set_keyed_line`] is the one "key=value line" edit.
use crate::args::Args;
use crate::context::ModuleCtx;
use crate::host::file::{gather, GatherOpts, Kind, Want};
use crate::ops::attrs::Attrs;
use crate::ops::put::{plan_put_with_info, Put};
use crate::plan::{ModuleResult, Plan};
use crate::util::failed;
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;

pub struct EditOpts {
    pub path: String,
    pub create: bool,
    /// state=absent: a missing file is fine and nothing is created
    pub absent: bool,
    pub attrs: Attrs,
    pub backup: bool,
    pub validate: Option<String>,
}

impl EditOpts {
    /// From the usual arguments: `create`, `backup`, `validate`, owner/group/mode.
    pub fn from_args(a: &Args, path: String, absent: bool) -> Result<Self> {
        let opt = |k: &str| a.spec().arg(k).is_some();
        Ok(EditOpts {
            path,
            create: opt("create") && a.bool("create")?,
            absent,
            attrs: Attrs::from_args(a)?,
            backup: opt("backup") && a.bool("backup")?,
            validate: if opt("validate") { a.str("validate")? } else { None },
        })
    }
}

/// `f` gets the current text ("" for a missing file) and returns the new text and a message.
pub async fn plan_edit(ctx: &ModuleCtx<'_>, module: &str, o: EditOpts, f: impl FnOnce(&str) -> Result<(String, String)>) -> Result<Plan> {
    let info = gather(ctx, &o.path, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content }).await?;
    match info.kind {
        Kind::Absent if o.absent => {
            return Ok(Plan::done(ModuleResult { msg: "file not present".into(), ..Default::default() }));
        }
        Kind::Absent if !o.create => {
            let mut r = failed(format!("Destination {} does not exist !", o.path));
            r.data.insert("rc".into(), 257.into());
            return Ok(Plan::done(r));
        }
        Kind::Directory => return Ok(Plan::failed(format!("{module}: {} is a directory", o.path))),
        _ => {}
    }
    let before = match &info.content {
        Some(c) => match String::from_utf8(c.clone()) {
            Ok(s) => s,
            Err(_) => bail!("{module}: {} is not UTF-8 text", o.path),
        },
        None => String::new(),
    };
    let (after, msg) = f(&before)?;
    let sha = sha256_hex(after.as_bytes());
    let mut p = Put::new(o.path.clone(), after.into_bytes());
    p.attrs = o.attrs;
    p.backup = o.backup;
    p.validate = o.validate;
    p.follow = true;
    // create=yes also creates missing parent directories, as Ansible does
    p.make_parents = o.create;
    let mut plan = plan_put_with_info(ctx, p, info, sha);
    if plan.result.msg.is_empty() {
        plan.result.msg = msg;
    }
    Ok(plan)
}

/// Lines of `text` as `key<sep>value` records: the first live line with `key` set to `value` (when it
/// differs, after whitespace normalization), later duplicates dropped; `None` removes the key. Comment
/// lines (`#`, `;`) are kept as they are. `sep` is how a new line is written (`=` for sysctl).
pub fn set_keyed_line(text: &str, key: &str, value: Option<&str>, sep: &str, key_of: impl Fn(&str) -> Option<(&str, &str)>) -> String {
    let norm = |v: &str| v.split_whitespace().collect::<Vec<_>>().join(" ");
    let ours = |t: &str| !t.starts_with('#') && !t.starts_with(';') && key_of(t).is_some_and(|(k, _)| k == key);
    let same = |t: &str| value.is_some_and(|v| key_of(t).is_some_and(|(_, cur)| norm(cur) == norm(v)));
    set_record_line(text, ours, value.map(|v| format!("{key}{sep}{v}")).as_deref(), same)
}

/// The general record edit (fstab entries, keyed lines): among the lines `ours` claims (it gets the trimmed
/// line and decides about comments itself), the first stays when `same` says it already is the record,
/// else it becomes `line`; later ones are dropped; `None` removes them all; a missing record is appended.
pub fn set_record_line(text: &str, ours: impl Fn(&str) -> bool, line: Option<&str>, same: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut done = false;
    for l in text.split_inclusive('\n') {
        let t = l.trim();
        if !ours(t) {
            out.push_str(l);
            continue;
        }
        if let (Some(want), false) = (line, done) {
            if same(t) {
                out.push_str(l);
            } else {
                out.push_str(&format!("{want}\n"));
            }
            done = true;
        }
    }
    if let (Some(want), false) = (line, done) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{want}\n"));
    }
    out
}

/// `key = value` split for sysctl-style files.
pub fn split_eq(line: &str) -> Option<(&str, &str)> {
    line.split_once('=').map(|(k, v)| (k.trim(), v.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keyed_lines() {
        let t = "# c\na = 1\nb=2\na=3\n";
        assert_eq!(set_keyed_line(t, "a", Some("5"), "=", split_eq), "# c\na=5\nb=2\n");
        assert_eq!(set_keyed_line(t, "a", Some("1"), "=", split_eq), "# c\na = 1\nb=2\n");
        assert_eq!(set_keyed_line(t, "a", None, "=", split_eq), "# c\nb=2\n");
        assert_eq!(set_keyed_line("x=1", "y", Some("2"), "=", split_eq), "x=1\ny=2\n");
        assert_eq!(set_keyed_line("#a=1\n", "a", Some("2"), "=", split_eq), "#a=1\na=2\n");
    }
}
