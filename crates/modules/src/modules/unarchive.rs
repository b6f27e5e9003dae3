//! unarchive: a .tar(.gz/.bz2/.xz)/.tgz/.zip from the controller (or the host with remote_src) unpacked
//! into an existing directory. The plan unpacks into a scratch directory on the host and compares entry by
//! entry (content, type, mode) in one exec, so only a real difference counts as a change; the step
//! unpacks again and copies the tree in (the archive crosses twice when something changes).
use crate::host::archive::{compare_script, parse_compare, ArchiveOpts};
use crate::ops::local_src::{find_local, read_local};
use crate::spec::{b, i, l, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

pub struct Unarchive;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("src").required(),
    s("dest").required(),
    b("remote_src").default(Def::Bool(false)),
    // deprecated spelling: copy=no is remote_src=yes
    b("copy"),
    s("creates"),
    s("owner"),
    s("group"),
    l("extra_opts"),
    l("exclude"),
    b("list_files").default(Def::Bool(false)),
    // true is refused in plan: every differing entry is replaced
    b("keep_newer").default(Def::Bool(false)),
    // only for URLs, which are refused
    b("validate_certs").ignored(),
    b("decrypt").default(Def::Bool(true)),
    i("io_buffer_size").ignored(),
])
.exclusive(&[&["copy", "remote_src"]]);

#[async_trait::async_trait]
impl Module for Unarchive {
    fn name(&self) -> &'static str {
        "unarchive"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let src = a.req("src")?;
        let dest = a.req("dest")?;
        if src.contains("://") {
            bail!("unarchive: downloading '{src}' needs network access, which mdxconf does not use; ship the archive in the role's files/");
        }
        if a.bool("keep_newer")? {
            bail!("unarchive: keep_newer=true is not supported (entries that differ from the archive are replaced)");
        }
        let remote = a.bool("remote_src")? || a.opt_bool("copy")? == Some(false);
        let stdin = if remote {
            None
        } else {
            let local = find_local(&ctx.search_dirs, "files", &src).ok_or_else(|| anyhow!("unarchive: could not find src '{src}' (searched files/ of {:?})", ctx.search_dirs))?;
            Some(read_local(&local, a.bool("decrypt")?, "unarchive")?)
        };
        let (extra, exclude, creates) = (a.list("extra_opts")?, a.list("exclude")?, a.str("creates")?);
        let o = ArchiveOpts {
            dest: &dest,
            remote: remote.then_some(src.as_str()),
            zip: src.to_ascii_lowercase().ends_with(".zip"),
            extra_opts: &extra,
            exclude: &exclude,
            creates: creates.as_deref(),
        };
        let compare = compare_script(&o);
        let out = sh(ctx, &compare, stdin.clone()).await?;
        let c = parse_compare(&out.stdout);
        if c.nodest {
            return Ok(Plan::failed(format!("dest '{dest}' must be an existing dir")));
        }
        let mut r = ModuleResult::default();
        r.data.insert("dest".into(), dest.clone().into());
        r.data.insert("src".into(), src.clone().into());
        if c.skip {
            r.msg = "skipped, since the 'creates' path exists".into();
            return Ok(Plan::done(r));
        }
        if out.rc != 0 {
            return Ok(Plan::done(failed(format!("failed to unpack {src} into {dest}: {}", text(&out.stderr).trim()))));
        }
        if a.bool("list_files")? {
            r.data.insert("files".into(), c.files.iter().map(|f| Value::from(f.as_str())).collect::<Vec<_>>().into());
        }
        if c.changes.is_empty() {
            return Ok(Plan::done(r));
        }
        r.diff.push(state_diff(format!("{dest} (unarchive {src})"), "", c.changes.iter().map(|c| format!("{c}\n")).collect::<String>()));
        let script = compare + &install(a.str("owner")?, a.str("group")?);
        let what = format!("failed to unpack {src} into {dest}");
        let step = match stdin {
            Some(bytes) => Step::run_stdin(what, script, bytes),
            None => Step::run(what, script),
        };
        Ok(Plan::change(r, vec![step]))
    }
}

/// Appended to the compare script (still in the scratch tree): copy it in when it differs, then chown.
fn install(owner: Option<String>, group: Option<String>) -> String {
    let mut s = String::from("if [ -s \"$w/changes\" ]; then cp -a . \"$d/\"; echo copied=1; fi\n");
    if owner.is_some() || group.is_some() {
        let spec = format!("{}{}", owner.as_deref().map(q).unwrap_or_default(), group.as_deref().map(|g| format!(":{}", q(g))).unwrap_or_default());
        s += &format!("if [ -s \"$w/changes\" ]; then find . -mindepth 1 -maxdepth 1 | while IFS= read -r f; do chown -R {spec} \"$d/${{f#./}}\"; done; fi\n");
    }
    s
}
