//! assemble: fragments of a directory (on the host, or with `remote_src: false` in the role's files/ on
//! the controller) concatenated in sorted order and written by the one atomic writer (ops/put.rs), so it is
//! changed only when the content or attributes differ and `--diff` shows the change. Ansible 2.14's
//! assemble has no check-mode support (module and action plugin), so in check mode a change is skipped.
use crate::host::fragments::{assemble, fragments_script, parse_fragments, Fragments};
use crate::module::CheckMode;
use crate::ops::attrs::Attrs;
use crate::ops::local_src::find_local;
use crate::ops::put::{plan_put, Put};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::{sh, text};
use crate::{Args, Module, ModuleCtx, Plan};
use anyhow::{anyhow, bail, Context, Result};

pub struct Assemble;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("src").required(),
    s("dest").required(),
    s("delimiter"),
    s("regexp"),
    b("ignore_hidden").default(Def::Bool(false)),
    b("remote_src").default(Def::Bool(true)),
    b("backup").default(Def::Bool(false)),
    s("validate"),
    s("owner"),
    s("group"),
    raw("mode"),
    b("follow").default(Def::Bool(false)),
    // no vault: fragments are read as they are
    b("decrypt").ignored(),
    b("unsafe_writes").ignored(),
]);

#[async_trait::async_trait]
impl Module for Assemble {
    fn name(&self) -> &'static str {
        "assemble"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    fn check_mode(&self) -> CheckMode {
        CheckMode::SkipsChanges
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let (src, dest) = (a.req("src")?, a.req("dest")?);
        let validate = a.str("validate")?;
        if validate.as_ref().is_some_and(|v| !v.contains("%s")) {
            bail!("assemble: validate must contain %s: {}", validate.unwrap_or_default());
        }
        // Python's re.search on each file name
        let re = a.str("regexp")?.map(|r| regex::Regex::new(&r).map_err(|e| anyhow!("assemble: Invalid Regexp ({e}) in \"{r}\""))).transpose()?;
        let files = if a.bool("remote_src")? {
            let out = sh(ctx, &fragments_script(&src), None).await?;
            if out.rc != 0 {
                return Ok(Plan::failed(format!("assemble: reading the fragments in {src} failed: {}", text(&out.stderr).trim())));
            }
            match parse_fragments(&out.stdout) {
                Ok(Fragments::Files(f)) => f,
                Ok(Fragments::Missing) => return Ok(Plan::failed(format!("Source ({src}) does not exist"))),
                Ok(Fragments::NotADirectory) => return Ok(Plan::failed(format!("Source ({src}) is not a directory"))),
                Err(e) => return Ok(Plan::failed(format!("assemble: {e}"))),
            }
        } else {
            let dir = find_local(&ctx.search_dirs, "files", &src).ok_or_else(|| anyhow!("assemble: could not find src '{src}' (searched files/ of {:?})", ctx.search_dirs))?;
            if !dir.is_dir() {
                return Ok(Plan::failed(format!("Source ({}) is not a directory", dir.display())));
            }
            local_fragments(&dir)?
        };
        let content = assemble(files, a.str("delimiter")?.as_deref(), |n| re.as_ref().is_none_or(|r| r.is_match(n)), a.bool("ignore_hidden")?);
        let mut p = Put::new(&dest, content);
        p.attrs = Attrs::from_args(a)?;
        p.backup = a.bool("backup")?;
        p.validate = validate;
        p.follow = a.bool("follow")?;
        let mut plan = plan_put(ctx, p).await?;
        if !plan.result.failed {
            plan.result.data.insert("src".into(), src.into());
            plan.result.msg = "OK".into();
        }
        Ok(plan)
    }
}

/// The regular files of a controller directory (links followed, as os.path.isfile does).
fn local_fragments(dir: &std::path::Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = vec![];
    for e in std::fs::read_dir(dir).with_context(|| format!("assemble: reading {}", dir.display()))? {
        let p = e?.path();
        if p.is_file() {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            files.push((name, std::fs::read(&p).with_context(|| format!("assemble: reading {}", p.display()))?));
        }
    }
    Ok(files)
}
