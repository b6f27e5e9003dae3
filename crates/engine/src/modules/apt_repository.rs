//! apt_repository: a one-line source in /etc/apt/sources.list.d/*.list (present/absent), written atomically;
//! every existing source file is read in the same single exec so a repo already configured anywhere is ok.
use super::copy::{put_content, Put};
use super::fileops::{Attrs, ModeSpec};
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "repo",
        "state",
        "filename",
        "update_cache|update-cache",
        "mode",
        "codename",
        "validate_certs",
        "install_python_apt",
        "update_cache_retries",
        "update_cache_retry_max_delay",
    ],
    required: &["repo"],
};

fn norm(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Ansible's file name suggestion: the URL's host and path with non-alphanumerics turned into `_`.
pub fn suggest_filename(repo: &str) -> String {
    let no_opts = regex::Regex::new(r"\[[^\]]+\]").expect("static regex").replace_all(repo, "");
    let no_scheme = regex::Regex::new(r"\w+://").expect("static regex").replace_all(&no_opts, "");
    let first = no_scheme.split_whitespace().find(|p| *p != "deb" && *p != "deb-src").unwrap_or("repo");
    let first = first.rsplit_once('@').map(|(_, h)| h).unwrap_or(first);
    let cleaned: String = first.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join("_")
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("apt_repository", &SPEC, args)?;
    let repo = norm(&a.req("repo")?);
    if repo.starts_with("ppa:") {
        bail!("apt_repository: PPA shortcuts need Launchpad over the internet; give the full 'deb ...' line and install its key with apt_key/deb822_repository");
    }
    if !(repo.starts_with("deb ") || repo.starts_with("deb-src ")) {
        bail!("apt_repository: repo must be a one-line 'deb ...' or 'deb-src ...' source, got '{repo}'");
    }
    let state = a.choice("state", "present", &["present", "absent"])?;
    let filename = a.str("filename")?.map(|f| f.trim_end_matches(".list").to_string()).unwrap_or_else(|| suggest_filename(&repo));
    let target = format!("/etc/apt/sources.list.d/{filename}.list");
    let mode = a.raw("mode").map(|m| ModeSpec::parse("apt_repository", m)).transpose()?.unwrap_or(ModeSpec::Octal(0o644));
    let out = sh(
        ctx,
        "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f \"$f\" ] || continue; printf '@@FILE@@ %s\\n' \"$f\"; cat -- \"$f\"; echo; done; true",
        None,
    )
    .await?;
    let listing = text(&out.stdout);
    let mut files: Vec<(String, String)> = vec![];
    for chunk in listing.split("@@FILE@@ ").skip(1) {
        let (name, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        // the trailing `echo` added one newline
        files.push((name.to_string(), body.strip_suffix('\n').unwrap_or(body).to_string()));
    }
    let has = |body: &str| body.lines().any(|l| norm(l) == repo);
    let mut r = ModuleResult::default();
    r.data.insert("repo".into(), repo.clone().into());
    r.data.insert("state".into(), state.clone().into());
    let mut writes: Vec<(String, String)> = vec![];
    if state == "present" {
        if files.iter().any(|(_, b)| has(b)) {
            return Ok(r);
        }
        let cur = files.iter().find(|(n, _)| *n == target).map(|(_, b)| b.clone()).unwrap_or_default();
        let mut new = cur.clone();
        if !new.is_empty() && !new.ends_with('\n') {
            new.push('\n');
        }
        new += &format!("{repo}\n");
        writes.push((target.clone(), new));
    } else {
        for (n, b) in &files {
            if has(b) {
                let kept: String = b.split_inclusive('\n').filter(|l| norm(l) != repo).collect();
                writes.push((n.clone(), kept));
            }
        }
        if writes.is_empty() {
            return Ok(r);
        }
    }
    for (path, content) in writes {
        // an emptied file under sources.list.d is removed, like Ansible does
        if content.trim().is_empty() && path.starts_with("/etc/apt/sources.list.d/") && state == "absent" {
            r.changed = true;
            let before = files.iter().find(|(n, _)| *n == path).map(|(_, b)| b.clone()).unwrap_or_default();
            r.diff.push(state_diff(&path, before, ""));
            if !ctx.check {
                sh(ctx, &format!("rm -f -- {}", q(&path)), None).await?;
            }
            continue;
        }
        let w = put_content(ctx, Put { attrs: Attrs { mode: Some(mode.clone()), ..Default::default() }, ..Put::new(&path, content.into_bytes()) }).await?;
        if w.failed {
            return Ok(w);
        }
        r.changed |= w.changed;
        r.diff.extend(w.diff);
    }
    if r.changed && a.bool("update_cache", true)? {
        r.data.insert("cache_updated".into(), true.into());
        if !ctx.check {
            let out = sh(ctx, "DEBIAN_FRONTEND=noninteractive apt-get -q update", None).await?;
            if out.rc != 0 {
                let mut f = failed_exec("apt-get update failed", &out);
                f.changed = true;
                return Ok(f);
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames() {
        assert_eq!(super::suggest_filename("deb [arch=amd64 signed-by=/k.gpg] https://download.docker.com/linux/ubuntu jammy stable"), "download_docker_com_linux_ubuntu");
        assert_eq!(super::suggest_filename("deb http://user:pw@repo.example.org/debian bookworm main"), "repo_example_org_debian");
    }
}
