//! copy and template: put content at a destination, compared by sha256 first (nothing is sent when equal),
//! written atomically with `validate` run on the temp file. `put_content` is shared by every module that
//! owns a whole file (apt_repository, deb822_repository, apt_key, hostname, ...).
use super::fileops::{self, gather, plan_attrs, sha256_hex, Attrs, FileInfo, GatherOpts, Kind, ModeSpec, Want, WriteOpts, WriteOutcome};
use super::util::{failed, q, sh, text, Args, Spec};
use super::{Diff, ModuleCtx, ModuleResult};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

pub const COPY: Spec = Spec {
    args: &[
        "src",
        "content",
        "dest",
        "owner",
        "group",
        "mode",
        "backup",
        "validate",
        "force|thirsty",
        "follow",
        "remote_src",
        "directory_mode",
        "local_follow",
        "unsafe_writes",
        "decrypt",
    ],
    required: &["dest"],
};
pub const TEMPLATE: Spec = Spec {
    args: &["src", "dest", "owner", "group", "mode", "backup", "validate", "force", "follow", "unsafe_writes", "newline_sequence", "output_encoding"],
    required: &["src", "dest"],
};

/// A whole-file write request.
pub struct Put<'a> {
    pub dest: &'a str,
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

impl<'a> Put<'a> {
    pub fn new(dest: &'a str, content: Vec<u8>) -> Self {
        Put { dest, content, attrs: Attrs::default(), backup: false, validate: None, force: true, follow: false, into_dir: None, make_parents: false }
    }
}

pub async fn put_content(ctx: &ModuleCtx<'_>, p: Put<'_>) -> Result<ModuleResult> {
    let sha = sha256_hex(&p.content);
    let want = if ctx.diff { Want::ContentIfShaNot(sha.clone()) } else { Want::No };
    let info = gather(ctx, p.dest, &GatherOpts { follow: p.follow, into_dir: p.into_dir.as_deref(), checksum: true, want }).await?;
    put_with_info(ctx, p, info, sha).await
}

/// Decide and act given the gathered state of the destination (one more exec only when something changes).
pub async fn put_with_info(ctx: &ModuleCtx<'_>, p: Put<'_>, info: FileInfo, sha: String) -> Result<ModuleResult> {
    let mut r = ModuleResult::default();
    // Check mode predicts the write (as Ansible's copy/template action does before any module
    // runs): the directory may come from an earlier task that check mode did not run.
    if !info.parent_is_dir && !p.make_parents && !ctx.check {
        let parent = Path::new(&info.path).parent().map(|x| x.display().to_string()).unwrap_or_default();
        return Ok(failed(format!("Destination directory {parent} does not exist")));
    }
    match info.kind {
        Kind::Directory => return Ok(failed(format!("{} is a directory", info.path))),
        Kind::Other => return Ok(failed(format!("{} exists and is not a regular file", info.path))),
        _ => {}
    }
    let exists = info.kind == Kind::File;
    let content_changed = !exists || info.sha256.as_deref() != Some(sha.as_str());
    let mode_after = fileops::final_mode(&info, &p.attrs);
    if exists && !p.force {
        fill_data(&mut r, &info, &sha, p.content.len(), info.mode);
        r.msg = "destination exists and force=no".into();
        return Ok(r);
    }
    if content_changed {
        r.changed = true;
        if ctx.diff {
            let before = if exists { info.content.as_deref().map(fileops::diff_text).unwrap_or_default() } else { String::new() };
            r.diff.push(Diff { path: info.path.clone(), before, after: fileops::diff_text(&p.content) });
        }
        let plan = plan_attrs(&info, &p.attrs);
        if exists && plan.changed() {
            r.diff.push(plan.diff(&info.path));
        }
        if !ctx.check {
            match fileops::write(
                ctx,
                &info,
                p.content.clone(),
                &WriteOpts { attrs: &p.attrs, backup: p.backup, validate: p.validate.as_deref(), mkdir_parent: !info.parent_is_dir },
            )
            .await?
            {
                WriteOutcome::Written { backup } => {
                    if let Some(b) = backup {
                        r.data.insert("backup_file".into(), b.into());
                    }
                }
                WriteOutcome::ValidateFailed { rc, stdout, stderr } => {
                    let mut f = failed(format!("failed to validate {}: {}", info.path, stderr.trim()));
                    f.data.insert("rc".into(), rc.into());
                    f.data.insert("stdout".into(), stdout.into());
                    f.data.insert("stderr".into(), stderr.into());
                    return Ok(f);
                }
            }
        }
    } else {
        let plan = plan_attrs(&info, &p.attrs);
        if plan.changed() {
            r.changed = true;
            r.diff.push(plan.diff(&info.path));
            if !ctx.check {
                let out = sh(ctx, &format!("set -e\n{}", plan.script(&q(&info.path))), None).await?;
                if out.rc != 0 {
                    return Ok(failed(format!("setting attributes of {} failed: {}", info.path, text(&out.stderr).trim())));
                }
            }
        }
    }
    fill_data(&mut r, &info, &sha, p.content.len(), mode_after);
    if let Some(o) = &p.attrs.owner {
        r.data.insert("owner".into(), o.clone().into());
    }
    if let Some(g) = &p.attrs.group {
        r.data.insert("group".into(), g.clone().into());
    }
    Ok(r)
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

/// First existing `dir/sub/name`, then `dir/name`, over the search dirs; then the path itself.
pub fn find_local(search_dirs: &[PathBuf], sub: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    for d in search_dirs {
        for cand in [d.join(sub).join(name), d.join(name)] {
            if cand.exists() {
                return Some(cand);
            }
        }
    }
    p.exists().then(|| p.to_path_buf())
}

fn common_put<'a>(a: &Args, dest: &'a str, content: Vec<u8>) -> Result<Put<'a>> {
    Ok(Put {
        dest,
        content,
        attrs: super::fileops::attrs_from_args(a)?,
        backup: a.bool("backup", false)?,
        validate: a.str("validate")?,
        force: a.bool("force", true)?,
        follow: a.bool("follow", false)?,
        into_dir: None,
        make_parents: false,
    })
}

pub async fn run_copy(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("copy", &COPY, args)?;
    let dest = a.req("dest")?;
    let src = a.str("src")?;
    match (a.raw("content"), &src) {
        (Some(_), Some(_)) => bail!("copy: src and content are mutually exclusive"),
        (None, None) => bail!("copy: one of src or content is required"),
        _ => {}
    }
    if let Some(c) = a.raw("content") {
        if dest.ends_with('/') {
            bail!("copy: can not use content with a directory as dest ({dest})");
        }
        let bytes = match c {
            Value::String(s) => s.clone().into_bytes(),
            v => serde_json::to_vec(v)?,
        };
        return put_content(ctx, common_put(&a, &dest, bytes)?).await;
    }
    let src = src.unwrap_or_default();
    if a.bool("remote_src", false)? {
        return copy_remote(ctx, &a, &src, &dest).await;
    }
    let local = find_local(&ctx.search_dirs, "files", &src).ok_or_else(|| anyhow!("copy: could not find src '{src}' (searched files/ of {:?})", ctx.search_dirs))?;
    if local.is_dir() {
        return copy_tree(ctx, &a, &local, src.ends_with('/'), &dest).await;
    }
    let content = mdxconf_modules::ops::local_src::read_local(&local, a.bool("decrypt", true)?, "copy")?;
    let mut p = common_put(&a, &dest, content)?;
    if p.attrs.mode == Some(ModeSpec::Preserve) {
        // `mode: preserve` means the source file's mode
        use std::os::unix::fs::PermissionsExt;
        p.attrs.mode = Some(ModeSpec::Octal(std::fs::metadata(&local)?.permissions().mode() & 0o7777));
    }
    p.into_dir = local.file_name().map(|n| n.to_string_lossy().into_owned());
    // like Ansible, `dest: some/dir/` is created when missing
    p.make_parents = dest.ends_with('/');
    let mut r = put_content(ctx, p).await?;
    r.data.insert("src".into(), local.display().to_string().into());
    Ok(r)
}

/// A local directory: `src/` copies its contents into dest, `src` copies the directory itself.
async fn copy_tree(ctx: &ModuleCtx<'_>, a: &Args<'_>, local: &Path, contents_only: bool, dest: &str) -> Result<ModuleResult> {
    let base =
        if contents_only { dest.trim_end_matches('/').to_string() } else { format!("{}/{}", dest.trim_end_matches('/'), local.file_name().unwrap_or_default().to_string_lossy()) };
    let mut files = vec![];
    walk(local, Path::new(""), &mut files)?;
    let mut dirs: Vec<String> = files.iter().filter_map(|(rel, _)| Path::new(rel).parent().map(|p| format!("{base}/{}", p.display()))).collect();
    dirs.push(base.clone());
    dirs.sort();
    dirs.dedup();
    let mut total = ModuleResult::default();
    let dir_mode = a.raw("directory_mode").map(|v| fileops::ModeSpec::parse("copy", v)).transpose()?;
    let probe = dirs.iter().map(|d| format!("[ -d {} ] || echo {}", q(d), q(d))).collect::<Vec<_>>().join("\n");
    let missing = text(&sh(ctx, &probe, None).await?.stdout);
    let missing: Vec<&str> = missing.lines().collect();
    if !missing.is_empty() {
        total.changed = true;
        total.diff.push(Diff { path: base.clone(), before: String::new(), after: missing.iter().map(|m| format!("directory: {m}\n")).collect() });
        if !ctx.check {
            let mut s = String::from("set -e\n");
            for m in &missing {
                s += &format!("mkdir -p -- {}\n", q(m));
                if let Some(fileops::ModeSpec::Octal(o)) = &dir_mode {
                    s += &format!("chmod {o:04o} -- {}\n", q(m));
                }
            }
            let out = sh(ctx, &s, None).await?;
            if out.rc != 0 {
                return Ok(failed(format!("copy: creating directories failed: {}", text(&out.stderr).trim())));
            }
        }
    }
    for (rel, path) in files {
        let d = format!("{base}/{rel}");
        let content = mdxconf_modules::ops::local_src::read_local(&path, a.bool("decrypt", true)?, "copy")?;
        let r = if ctx.check && missing.iter().any(|m| d.starts_with(&format!("{m}/"))) {
            // parent does not exist yet in check mode: the file would be created
            ModuleResult { changed: true, diff: vec![Diff { path: d.clone(), before: String::new(), after: fileops::diff_text(&content) }], ..Default::default() }
        } else {
            put_content(ctx, common_put(a, &d, content)?).await?
        };
        total.changed |= r.changed;
        total.diff.extend(r.diff);
        if r.failed {
            total.failed = true;
            total.msg = r.msg;
            break;
        }
    }
    total.data.insert("dest".into(), base.into());
    Ok(total)
}

fn walk(dir: &Path, rel: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let r = rel.join(e.file_name());
        if p.is_dir() {
            walk(&p, &r, out)?;
        } else {
            out.push((r.display().to_string(), p));
        }
    }
    Ok(())
}

/// remote_src: the source is on the host; its content is read once and written like any other.
async fn copy_remote(ctx: &ModuleCtx<'_>, a: &Args<'_>, src: &str, dest: &str) -> Result<ModuleResult> {
    let out = sh(ctx, &format!("cat -- {}", q(src)), None).await?;
    if out.rc != 0 {
        return Ok(failed(format!("copy: cannot read remote src {src}: {}", text(&out.stderr).trim())));
    }
    let mut p = common_put(a, dest, out.stdout)?;
    p.into_dir = Path::new(src).file_name().map(|n| n.to_string_lossy().into_owned());
    put_content(ctx, p).await
}

pub async fn run_template(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("template", &TEMPLATE, args)?;
    let src = a.req("src")?;
    let dest = a.req("dest")?;
    if let Some(n) = a.str("newline_sequence")? {
        if n != "\n" && n != "\\n" {
            bail!("template: only newline_sequence '\\n' is supported");
        }
    }
    let local = find_local(&ctx.search_dirs, "templates", &src).ok_or_else(|| anyhow!("template: could not find src '{src}' (searched templates/ of {:?})", ctx.search_dirs))?;
    let rendered = ctx.templater.render_file(&local, ctx.vars).map_err(anyhow::Error::new)?;
    let mut p = common_put(&a, &dest, rendered.into_bytes())?;
    p.into_dir = local.file_name().map(|n| n.to_string_lossy().into_owned());
    let mut r = put_content(ctx, p).await?;
    r.data.insert("src".into(), local.display().to_string().into());
    Ok(r)
}
