//! copy: content, a controller file, a controller directory tree, or (remote_src) a file on the host put
//! at a destination; compared by sha256 first and written by the one atomic writer (ops/put.rs).
use crate::host::file::{gather, GatherOpts, Kind, Want};
use crate::host::files::gather_many;
use crate::host::source::{parse_probe, probe_script, Source};
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::ops::local_src::{find_local, read_local};
use crate::ops::put::{plan_put, plan_put_with_info, Put};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, text};
use crate::{Args, Diff, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{anyhow, bail, Result};
use mdxconf_transport::sha256_hex;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub struct Copy;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("src"),
    raw("content"),
    s("dest").required(),
    s("owner"),
    s("group"),
    raw("mode"),
    b("backup").default(Def::Bool(false)),
    s("validate"),
    b("force").aliases(&["thirsty"]).default(Def::Bool(true)),
    b("follow").default(Def::Bool(false)),
    b("remote_src").default(Def::Bool(false)),
    raw("directory_mode"),
    // links in a source tree are always followed; `false` is refused in plan
    b("local_follow").default(Def::Bool(true)),
    b("unsafe_writes").ignored(),
    // a vault-encrypted src is deployed decrypted unless `decrypt: false`
    b("decrypt").default(Def::Bool(true)),
])
// src-or-content is checked in plan, as Ansible's action does at run time (and the old module did)
.exclusive(&[&["src", "content"]]);

/// The write every copy and template makes, from the common arguments.
pub(crate) fn common_put(a: &Args, dest: &str, content: Vec<u8>) -> Result<Put> {
    let mut p = Put::new(dest, content);
    p.attrs = Attrs::from_args(a)?;
    p.backup = a.bool("backup")?;
    p.validate = a.str("validate")?;
    p.force = a.bool("force")?;
    p.follow = a.bool("follow")?;
    Ok(p)
}

#[async_trait::async_trait]
impl Module for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let dest = a.req("dest")?;
        if !a.bool("local_follow")? {
            bail!("copy: local_follow=false is not supported (links in a source tree are followed)");
        }
        if let Some(c) = a.raw("content") {
            if dest.ends_with('/') {
                bail!("copy: can not use content with a directory as dest ({dest})");
            }
            let bytes = match c {
                Value::String(s) => s.clone().into_bytes(),
                v => serde_json::to_vec(v)?,
            };
            return plan_put(ctx, common_put(a, &dest, bytes)?).await;
        }
        let Some(src) = a.str("src")? else { bail!("copy: one of src or content is required") };
        if a.bool("remote_src")? {
            return copy_remote(ctx, a, &src, &dest).await;
        }
        let local = find_local(&ctx.search_dirs, "files", &src).ok_or_else(|| anyhow!("copy: could not find src '{src}' (searched files/ of {:?})", ctx.search_dirs))?;
        if local.is_dir() {
            return copy_tree(ctx, a, &local, src.ends_with('/'), &dest).await;
        }
        let content = read_local(&local, a.bool("decrypt")?, "copy")?;
        let mut p = common_put(a, &dest, content)?;
        if p.attrs.mode == Some(ModeSpec::Preserve) {
            // `mode: preserve` means the source file's mode
            use std::os::unix::fs::PermissionsExt;
            p.attrs.mode = Some(ModeSpec::Octal(std::fs::metadata(&local)?.permissions().mode() & 0o7777));
        }
        p.into_dir = local.file_name().map(|n| n.to_string_lossy().into_owned());
        // like Ansible, `dest: some/dir/` is created when missing
        p.make_parents = dest.ends_with('/');
        let mut plan = plan_put(ctx, p).await?;
        plan.result.data.insert("src".into(), local.display().to_string().into());
        Ok(plan)
    }
}

/// remote_src: the source is on the host; its content is read once and written like any other.
async fn copy_remote(ctx: &ModuleCtx<'_>, a: &Args, src: &str, dest: &str) -> Result<Plan> {
    let out = sh(ctx, &probe_script(src, None), None).await?;
    if out.rc != 0 {
        return Ok(Plan::failed(format!("copy: cannot read remote src {src}: {}", text(&out.stderr).trim())));
    }
    let content = match parse_probe(src, &out.stdout)? {
        Source::File { content, .. } => content.unwrap_or_default(),
        Source::Directory => return crate::ops::remote_tree::plan_remote_tree(ctx, a, src, dest).await,
        Source::Missing => return Ok(Plan::failed(format!("copy: cannot read remote src {src}: No such file or directory"))),
        Source::Unreadable(why) => return Ok(Plan::failed(format!("copy: cannot read remote src {src}: {why}"))),
    };
    let mut p = common_put(a, dest, content)?;
    p.into_dir = Path::new(src).file_name().map(|n| n.to_string_lossy().into_owned());
    plan_put(ctx, p).await
}

/// A local directory: `src/` copies its contents into dest, `src` the directory itself. One exec reads
/// every destination (missing directories included); a changed existing file costs one more for its diff.
async fn copy_tree(ctx: &ModuleCtx<'_>, a: &Args, local: &Path, contents_only: bool, dest: &str) -> Result<Plan> {
    let base =
        if contents_only { dest.trim_end_matches('/').to_string() } else { format!("{}/{}", dest.trim_end_matches('/'), local.file_name().unwrap_or_default().to_string_lossy()) };
    let mut files = vec![];
    walk(local, Path::new(""), &mut files)?;
    let mut dirs: Vec<String> = files.iter().filter_map(|(rel, _)| Path::new(rel).parent().map(|p| format!("{base}/{}", p.display()))).collect();
    dirs.push(base.clone());
    dirs.sort();
    dirs.dedup();
    let dir_mode = a.raw("directory_mode").map(|v| ModeSpec::parse("copy", v)).transpose()?;
    let dests: Vec<String> = files.iter().map(|(rel, _)| format!("{base}/{rel}")).collect();
    let follow = a.bool("follow")?;
    let (missing, infos) = gather_many(ctx, &dirs, &dests, follow).await?;
    let mut total = ModuleResult::default();
    let mut steps = vec![];
    if !missing.is_empty() {
        total.diff.push(Diff { path: base.clone(), before: String::new(), after: missing.iter().map(|m| format!("directory: {m}\n")).collect() });
        let mut s = String::from("set -e\n");
        for m in &missing {
            s += &format!("mkdir -p -- {}\n", q(m));
            match &dir_mode {
                Some(ModeSpec::Octal(o)) => s += &format!("chmod {o:04o} -- {}\n", q(m)),
                Some(ModeSpec::Symbolic(sym)) => s += &format!("chmod {} -- {}\n", q(sym), q(m)),
                _ => {}
            }
        }
        steps.push(Step::run("copy: creating directories failed", s));
    }
    for ((_, path), mut info) in files.into_iter().zip(infos) {
        let content = read_local(&path, a.bool("decrypt")?, "copy")?;
        let sha = sha256_hex(&content);
        if ctx.diff && info.kind == Kind::File && info.sha256.as_deref() != Some(sha.as_str()) {
            // the old content, for the diff only
            info.content = gather(ctx, &info.path, &GatherOpts { follow, into_dir: None, checksum: true, want: Want::Content }).await?.content;
        }
        let mut p = common_put(a, &info.path.clone(), content)?;
        // the directories come from the step above
        p.make_parents = true;
        let plan = plan_put_with_info(ctx, p, info, sha);
        if plan.result.failed {
            return Ok(Plan::done(failed(plan.result.msg)));
        }
        total.changed |= plan.result.changed;
        total.diff.extend(plan.result.diff);
        steps.extend(plan.steps);
    }
    total.data.insert("dest".into(), base.into());
    Ok(Plan::change(total, steps))
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
