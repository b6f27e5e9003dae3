//! deb822_repository: /etc/apt/sources.list.d/NAME.sources built from fields, written like `copy`.
use crate::host::file::{gather, GatherOpts, Want};
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::ops::put::{plan_put, Put};
use crate::spec::{b, i, l, raw, s, ArgSpec, Def};
use crate::util::{diff_text, sh_quote as q, state_diff};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{bail, Result};

pub struct Deb822Repository;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").required(),
    l("types"),
    l("uris"),
    l("suites"),
    l("components"),
    s("signed_by"),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    b("enabled"),
    l("architectures"),
    b("allow_insecure"),
    b("allow_weak"),
    b("allow_downgrade_to_insecure"),
    b("trusted"),
    b("by_hash"),
    b("check_valid_until"),
    b("check_date"),
    i("date_max_future"),
    s("inrelease_path"),
    l("languages"),
    b("pdiffs"),
    l("targets"),
    raw("mode"),
    // nothing to install: the file is written without python-debian
    b("install_python_debian").ignored(),
])
.required_if(&[("state", "present", &["uris", "suites"])]);

/// The file's content from the arguments.
pub fn render(a: &Args) -> Result<String> {
    let mut s = format!("X-Repolib-Name: {}\n", a.req("name")?);
    let list = |k: &str| -> Result<Option<String>> {
        let l = a.list(k)?;
        Ok((!l.is_empty()).then(|| l.join(" ")))
    };
    s += &format!("Types: {}\n", list("types")?.unwrap_or_else(|| "deb".into()));
    let fields = [
        ("uris", "URIs"),
        ("suites", "Suites"),
        ("components", "Components"),
        ("architectures", "Architectures"),
        ("languages", "Languages"),
        ("targets", "Targets"),
        ("inrelease_path", "InRelease-Path"),
    ];
    for (k, f) in fields {
        if let Some(v) = list(k)? {
            s += &format!("{f}: {v}\n");
        }
    }
    for (k, f) in [
        ("allow_insecure", "Allow-Insecure"),
        ("allow_weak", "Allow-Weak"),
        ("allow_downgrade_to_insecure", "Allow-Downgrade-To-Insecure"),
        ("trusted", "Trusted"),
        ("by_hash", "By-Hash"),
        ("check_valid_until", "Check-Valid-Until"),
        ("check_date", "Check-Date"),
        ("pdiffs", "PDiffs"),
    ] {
        if let Some(b) = a.opt_bool(k)? {
            s += &format!("{f}: {}\n", if b { "yes" } else { "no" });
        }
    }
    if let Some(d) = a.int("date_max_future")? {
        s += &format!("Date-Max-Future: {d}\n");
    }
    if let Some(k) = a.str("signed_by")? {
        let k = k.trim();
        if k.contains('\n') {
            // an inline key: continuation lines are indented, empty ones become " ."
            s += "Signed-By:\n";
            for l in k.lines() {
                s += &if l.trim().is_empty() { " .\n".to_string() } else { format!(" {l}\n") };
            }
        } else {
            s += &format!("Signed-By: {k}\n");
        }
    }
    if a.opt_bool("enabled")? == Some(false) {
        s += "Enabled: no\n";
    }
    Ok(s)
}

#[async_trait::async_trait]
impl Module for Deb822Repository {
    fn name(&self) -> &'static str {
        "deb822_repository"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        if name.contains('/') {
            bail!("deb822_repository: name must not contain '/'");
        }
        let path = format!("/etc/apt/sources.list.d/{}.sources", name.replace(' ', "_"));
        if a.choice("state")? == "absent" {
            let info = gather(ctx, &path, &GatherOpts { follow: false, into_dir: None, checksum: false, want: Want::Content }).await?;
            if !info.exists() {
                return Ok(Plan::done(ModuleResult::default()));
            }
            let mut r = ModuleResult::default();
            r.diff.push(state_diff(&path, info.content.as_deref().map(diff_text).unwrap_or_default(), ""));
            return Ok(Plan::change(r, vec![Step::run(format!("removing {path} failed"), format!("rm -f -- {}", q(&path)))]));
        }
        // state's default is present too (the spec's required_if sees only a given state)
        if a.list("uris")?.is_empty() || a.list("suites")?.is_empty() {
            bail!("deb822_repository: uris and suites are required with state=present");
        }
        let mode = a.raw("mode").map(|m| ModeSpec::parse("deb822_repository", m)).transpose()?.unwrap_or(ModeSpec::Octal(0o644));
        let mut p = plan_put(ctx, Put { attrs: Attrs { mode: Some(mode), ..Default::default() }, ..Put::new(&path, render(a)?.into_bytes()) }).await?;
        p.result.data.insert("repo".into(), path.into());
        Ok(p)
    }
}
