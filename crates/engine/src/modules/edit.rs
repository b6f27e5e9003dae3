//! Shared driver for modules that edit a file in place (lineinfile, blockinfile, replace): one exec to read
//! state + content, the edit computed in Rust, one atomic write only when the content or attributes change.
use super::copy::{put_with_info, Put};
use super::fileops::{gather, sha256_hex, Attrs, GatherOpts, Kind, Want};
use super::util::{failed, Args};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};

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
    pub fn from_args(a: &Args, path: String, absent: bool) -> Result<Self> {
        Ok(EditOpts { path, create: a.bool("create", false)?, absent, attrs: super::fileops::attrs_from_args(a)?, backup: a.bool("backup", false)?, validate: a.str("validate")? })
    }
}

/// `f` gets the current text ("" for a missing file) and returns the new text and a message.
pub async fn edit(ctx: &ModuleCtx<'_>, module: &str, o: EditOpts, f: impl FnOnce(&str) -> Result<(String, String)>) -> Result<ModuleResult> {
    let info = gather(ctx, &o.path, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content }).await?;
    match info.kind {
        Kind::Absent if o.absent => {
            return Ok(ModuleResult { msg: "file not present".into(), ..Default::default() });
        }
        Kind::Absent if !o.create => {
            let mut r = failed(format!("Destination {} does not exist !", o.path));
            r.data.insert("rc".into(), 257.into());
            return Ok(r);
        }
        Kind::Directory => return Ok(failed(format!("{module}: {} is a directory", o.path))),
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
    let mut p = Put::new(&o.path, after.into_bytes());
    p.attrs = o.attrs;
    p.backup = o.backup;
    p.validate = o.validate;
    p.follow = true;
    // create=yes also creates missing parent directories, as Ansible does
    p.make_parents = o.create;
    let mut r = put_with_info(ctx, p, info, sha).await?;
    if r.msg.is_empty() {
        r.msg = msg;
    }
    Ok(r)
}
