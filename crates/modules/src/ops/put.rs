//! Planning a whole-file write (copy, template, and every module that owns a whole file: apt_repository,
//! deb822_repository, apt_key, hostname, sysctl, ...): compared by sha256 first, so nothing is sent when
//! the file is already right; the diff carries the old content only when diffs are shown.
use crate::context::ModuleCtx;
use crate::host::file::{gather, FileInfo, GatherOpts, Kind, Want};
use crate::ops::attrs::{final_mode, plan_attrs, Attrs};
use crate::ops::write::WriteRequest;
use crate::plan::{Diff, ModuleResult, Plan, Step};
use crate::util::{diff_text, sh_quote};
use anyhow::Result;
use mdxconf_transport::sha256_hex;
use std::path::Path;

/// A whole-file write request.
#[derive(Debug, Clone)]
pub struct Put {
    pub dest: String,
    pub content: Vec<u8>,
    pub attrs: Attrs,
    pub backup: bool,
    pub validate: Option<String>,
    /// false: leave an existing destination alone
    pub force: bool,
    pub follow: bool,
    /// copy's `dest` directory semantics: an existing directory (or a dest ending in '/') gets this name appended
    pub into_dir: Option<String>,
    /// create missing parent directories instead of failing
    pub make_parents: bool,
}

impl Put {
    pub fn new(dest: impl Into<String>, content: Vec<u8>) -> Self {
        Put { dest: dest.into(), content, attrs: Attrs::default(), backup: false, validate: None, force: true, follow: false, into_dir: None, make_parents: false }
    }
}

/// One exec reads the destination; the plan says what to write.
pub async fn plan_put(ctx: &ModuleCtx<'_>, p: Put) -> Result<Plan> {
    let sha = sha256_hex(&p.content);
    let want = if ctx.diff { Want::ContentIfShaNot(sha.clone()) } else { Want::No };
    let info = gather(ctx, &p.dest, &GatherOpts { follow: p.follow, into_dir: p.into_dir.as_deref(), checksum: true, want }).await?;
    Ok(plan_put_with_info(ctx, p, info, sha))
}

/// Decide given the gathered state of the destination (no exec).
pub fn plan_put_with_info(ctx: &ModuleCtx<'_>, p: Put, info: FileInfo, sha: String) -> Plan {
    let mut r = ModuleResult::default();
    let mut steps = Vec::new();
    if !info.parent_is_dir && !p.make_parents {
        // Check mode predicts the write (as Ansible's copy/template action does before any module runs):
        // the directory may come from an earlier task that check mode did not run. A real run fails.
        let parent = Path::new(&info.path).parent().map(|x| x.display().to_string()).unwrap_or_default();
        steps.push(Step::Fail(format!("Destination directory {parent} does not exist")));
    }
    match info.kind {
        Kind::Directory => return Plan::failed(format!("{} is a directory", info.path)),
        Kind::Other => return Plan::failed(format!("{} exists and is not a regular file", info.path)),
        _ => {}
    }
    let exists = info.kind == Kind::File;
    let content_changed = !exists || info.sha256.as_deref() != Some(sha.as_str());
    let mode_after = final_mode(&info, &p.attrs);
    if exists && !p.force {
        fill_data(&mut r, &info, &sha, p.content.len(), info.mode);
        r.msg = "destination exists and force=no".into();
        return Plan::done(r);
    }
    if content_changed {
        r.changed = true;
        if ctx.diff {
            let before = if exists { info.content.as_deref().map(diff_text).unwrap_or_default() } else { String::new() };
            r.diff.push(Diff { path: info.path.clone(), before, after: diff_text(&p.content) });
        }
        let ap = plan_attrs(&info, &p.attrs);
        if exists && ap.changed() {
            r.diff.push(ap.diff(&info.path));
        }
        fill_data(&mut r, &info, &sha, p.content.len(), mode_after);
        let mkdir_parent = !info.parent_is_dir;
        steps.push(Step::Write(Box::new(WriteRequest {
            info: info.clone(),
            content: p.content.clone(),
            attrs: p.attrs.clone(),
            backup: p.backup,
            validate: p.validate.clone(),
            mkdir_parent,
        })));
    } else {
        let ap = plan_attrs(&info, &p.attrs);
        if ap.changed() {
            r.changed = true;
            r.diff.push(ap.diff(&info.path));
            steps.push(Step::run(format!("setting attributes of {}", info.path), format!("set -e\n{}", ap.script(&sh_quote(&info.path)))));
        } else {
            steps.clear();
        }
        fill_data(&mut r, &info, &sha, p.content.len(), mode_after);
    }
    if let Some(o) = &p.attrs.owner {
        r.data.insert("owner".into(), o.clone().into());
    }
    if let Some(g) = &p.attrs.group {
        r.data.insert("group".into(), g.clone().into());
    }
    r.msg = String::new();
    Plan { result: r, steps }
}

fn fill_data(r: &mut ModuleResult, info: &FileInfo, sha: &str, size: usize, mode: u32) {
    r.data.insert("dest".into(), info.path.clone().into());
    // sha256 (Ansible's `checksum` is sha1; mdxconf uses sha256 everywhere)
    r.data.insert("checksum".into(), sha.into());
    r.data.insert("size".into(), size.into());
    r.data.insert("mode".into(), format!("{mode:04o}").into());
    if info.exists() {
        r.data.insert("owner".into(), info.owner.clone().into());
        r.data.insert("group".into(), info.group.clone().into());
    }
}
