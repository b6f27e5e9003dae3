//! apt_repository: a one-line source in /etc/apt/sources.list.d/*.list (present/absent), written atomically;
//! every existing source file is read in the same single exec, so a repo configured anywhere is ok.
use crate::host::apt_sources::{self, norm};
use crate::module::default_finish;
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::ops::put::{plan_put, Put};
use crate::spec::{b, i, raw, s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan, Step};
use anyhow::{bail, Result};

pub struct AptRepository;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("repo").required(),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    s("filename"),
    b("update_cache").aliases(&["update-cache"]).default(Def::Bool(true)),
    raw("mode"),
    // only PPA shortcuts use these, and PPAs are refused
    s("codename").ignored(),
    b("validate_certs").ignored(),
    // nothing to install: mdxconf needs no python-apt
    b("install_python_apt").ignored(),
    // a failed update fails the task at once
    i("update_cache_retries").ignored(),
    i("update_cache_retry_max_delay").ignored(),
]);

const UPDATE: &str = "apt-get update failed";

/// Ansible's file name suggestion: the URL's host and path with non-alphanumerics turned into `_`.
pub fn suggest_filename(repo: &str) -> String {
    let no_opts = regex::Regex::new(r"\[[^\]]+\]").expect("static regex").replace_all(repo, "");
    let no_scheme = regex::Regex::new(r"\w+://").expect("static regex").replace_all(&no_opts, "");
    let first = no_scheme.split_whitespace().find(|p| *p != "deb" && *p != "deb-src").unwrap_or("repo");
    let first = first.rsplit_once('@').map(|(_, h)| h).unwrap_or(first);
    let cleaned: String = first.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join("_")
}

#[async_trait::async_trait]
impl Module for AptRepository {
    fn name(&self) -> &'static str {
        "apt_repository"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        plan_repo(a, ctx).await
    }
    /// A failed cache update leaves the source written: still a change.
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let update_failed = outcomes.iter().any(|o| matches!(o, Outcome::Ran { what, out } if what == UPDATE && out.rc != 0));
        let mut r = default_finish(planned, outcomes);
        r.changed |= update_failed;
        r
    }
}

async fn plan_repo(a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
    let repo = norm(&a.req("repo")?);
    if repo.starts_with("ppa:") {
        bail!("apt_repository: PPA shortcuts need Launchpad over the internet; give the full 'deb ...' line and install its key with apt_key/deb822_repository");
    }
    if !(repo.starts_with("deb ") || repo.starts_with("deb-src ")) {
        bail!("apt_repository: repo must be a one-line 'deb ...' or 'deb-src ...' source, got '{repo}'");
    }
    let state = a.choice("state")?;
    let filename = a.str("filename")?.map(|f| f.trim_end_matches(".list").to_string()).unwrap_or_else(|| suggest_filename(&repo));
    let target = format!("/etc/apt/sources.list.d/{filename}.list");
    let mode = a.raw("mode").map(|m| ModeSpec::parse("apt_repository", m)).transpose()?.unwrap_or(ModeSpec::Octal(0o644));
    let files = apt_sources::parse(&text(&sh(ctx, apt_sources::SCRIPT, None).await?.stdout));
    let has = |body: &str| body.lines().any(|l| norm(l) == repo);
    let mut r = ModuleResult::default();
    r.data.insert("repo".into(), repo.clone().into());
    r.data.insert("state".into(), state.clone().into());
    let mut writes: Vec<(String, String)> = vec![];
    if state == "present" {
        if files.iter().any(|(_, b)| has(b)) {
            return Ok(Plan::done(r));
        }
        let mut new = files.iter().find(|(n, _)| *n == target).map(|(_, b)| b.clone()).unwrap_or_default();
        if !new.is_empty() && !new.ends_with('\n') {
            new.push('\n');
        }
        new += &format!("{repo}\n");
        writes.push((target, new));
    } else {
        for (n, b) in files.iter().filter(|(_, b)| has(b)) {
            writes.push((n.clone(), b.split_inclusive('\n').filter(|l| norm(l) != repo).collect()));
        }
    }
    let mut steps = vec![];
    for (path, content) in writes {
        // an emptied file under sources.list.d is removed, as Ansible does
        if content.trim().is_empty() && path.starts_with("/etc/apt/sources.list.d/") && state == "absent" {
            let before = files.iter().find(|(n, _)| *n == path).map(|(_, b)| b.clone()).unwrap_or_default();
            r.diff.push(state_diff(&path, before, ""));
            steps.push(Step::run(format!("removing {path} failed"), format!("rm -f -- {}", q(&path))));
            continue;
        }
        let w = plan_put(ctx, Put { attrs: Attrs { mode: Some(mode.clone()), ..Default::default() }, ..Put::new(&path, content.into_bytes()) }).await?;
        if w.result.failed {
            return Ok(w);
        }
        r.changed |= w.result.changed;
        r.diff.extend(w.result.diff);
        steps.extend(w.steps);
    }
    if !steps.is_empty() && a.bool("update_cache")? {
        r.data.insert("cache_updated".into(), true.into());
        steps.push(Step::run(UPDATE, "DEBIAN_FRONTEND=noninteractive apt-get -q update"));
    }
    Ok(Plan::change(r, steps))
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames() {
        assert_eq!(super::suggest_filename("deb [arch=amd64 signed-by=/k.gpg] https://download.docker.com/linux/ubuntu jammy stable"), "download_docker_com_linux_ubuntu");
        assert_eq!(super::suggest_filename("deb http://user:pw@repo.example.org/debian bookworm main"), "repo_example_org_debian");
    }
}
