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
    let mut out = String::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let live = !t.starts_with('#') && !t.starts_with(';');
        match key_of(t).filter(|(k, _)| live && *k == key) {
            Some((_, cur)) => {
                if let (Some(v), false) = (value, done) {
                    if norm(cur) == norm(v) {
                        out.push_str(line);
                    } else {
                        out.push_str(&format!("{key}{sep}{v}\n"));
                    }
                    done = true;
                }
            }
            None => out.push_str(line),
        }
    }
    if let (Some(v), false) = (value, done) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{key}{sep}{v}\n"));
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
