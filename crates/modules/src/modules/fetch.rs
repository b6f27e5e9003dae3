//! fetch: a file from the host to the controller, as Ansible's fetch does. Without `flat` it lands in
//! `dest/<inventory_hostname>/<src path>` so hosts never overwrite each other; with `flat`, in `dest`
//! (or `dest/<basename>` when dest ends in `/`). The local file's sha256 goes to the host with the
//! probe, so one exec answers and the content comes back only when it differs.
use crate::host::source::{parse_probe, probe_script, Source};
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{diff_text, failed, sh, text};
use crate::{Args, Diff, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

pub struct Fetch;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("src").required(),
    s("dest").required(),
    b("flat").default(Def::Bool(false)),
    b("fail_on_missing").default(Def::Bool(true)),
    b("validate_checksum").aliases(&["validate_md5"]).default(Def::Bool(true)),
]);

/// `src` as a relative path with `.`/`..` resolved, so `dest/<host>/<src>` cannot leave `dest/<host>`.
fn relative_src(src: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in Path::new(src).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The controller path Ansible would write: relative `dest` is relative to the playbook directory
/// (the last search dir the executor passes), `~` is the controller user's home.
fn local_dest(search_dirs: &[PathBuf], src: &str, dest: &str, flat: bool, host: &str) -> PathBuf {
    let expanded = match dest.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        None => PathBuf::from(dest),
    };
    let base = if expanded.is_absolute() { expanded } else { search_dirs.last().cloned().unwrap_or_default().join(expanded) };
    if flat {
        if dest.ends_with('/') {
            base.join(Path::new(src).file_name().unwrap_or_default())
        } else {
            base
        }
    } else {
        // the host's name is one directory under dest, whatever it says (`/etc`, `../..`: Ansible's
        // Path::join-like handling would leave dest)
        base.join(relative_src(host)).join(relative_src(src))
    }
}

#[async_trait::async_trait]
impl Module for Fetch {
    fn name(&self) -> &'static str {
        "fetch"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let src = a.req("src")?;
        let host = ctx.vars.get("inventory_hostname").and_then(Value::as_str).unwrap_or_else(|| ctx.conn.host());
        let dest = local_dest(&ctx.search_dirs, &src, &a.req("dest")?, a.bool("flat")?, host);
        let fail_on_missing = a.bool("fail_on_missing")?;

        let mut r = ModuleResult::default();
        r.data.insert("file".into(), src.clone().into());
        r.data.insert("dest".into(), dest.display().to_string().into());
        // checked after the host answered, as before: a missing source is the first thing reported
        let dest_is_dir = dest.is_dir();
        let before = match std::fs::read(&dest) {
            _ if dest_is_dir => None,
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => bail!("fetch: cannot read {}: {e}", dest.display()),
        };
        let have = before.as_deref().map(sha256_hex);
        let out = sh(ctx, &probe_script(&src, have.as_deref()), None).await?;
        if out.rc != 0 {
            bail!("fetch: inspecting {src} on the host failed (rc={}): {}", out.rc, text(&out.stderr).trim());
        }
        let (remote_sha, content) = match parse_probe(&src, &out.stdout).map_err(|e| e.context("fetch"))? {
            Source::File { sha256, content } => (sha256, content),
            Source::Directory => return Ok(Plan::failed(format!("remote file {src} is a directory, fetch cannot work on directories"))),
            Source::Missing if fail_on_missing => return Ok(Plan::failed(format!("the remote file {src} does not exist, not transferring"))),
            Source::Missing => {
                r.msg = format!("the remote file {src} does not exist, not transferring, ignored");
                return Ok(Plan::done(r));
            }
            Source::Unreadable(why) if fail_on_missing => return Ok(Plan::failed(format!("file {src} is not readable: {why}"))),
            Source::Unreadable(why) => {
                r.msg = format!("file {src} is not readable, not transferring, ignored: {why}");
                return Ok(Plan::done(r));
            }
        };
        r.data.insert("remote_checksum".into(), remote_sha.clone().into());
        if dest_is_dir {
            return Ok(Plan::failed(format!("dest {} is a directory; use a trailing / with flat to fetch into it", dest.display())));
        }
        let Some(content) = content.filter(|_| have.as_deref() != Some(remote_sha.as_str())) else {
            r.data.insert("checksum".into(), remote_sha.into());
            return Ok(Plan::done(r));
        };
        let got = sha256_hex(&content);
        if a.bool("validate_checksum")? && got != remote_sha {
            return Ok(Plan::done(failed(format!(
                "checksum mismatch for {src}: the host reported sha256 {remote_sha} but {got} arrived (was it changing?); {} left as it was",
                dest.display()
            ))));
        }
        r.data.insert("checksum".into(), got.into());
        if ctx.diff {
            r.diff.push(Diff { path: dest.display().to_string(), before: before.as_deref().map(diff_text).unwrap_or_default(), after: diff_text(&content) });
        }
        Ok(Plan::change(r, vec![Step::LocalWrite { path: dest, content }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn src_cannot_escape_the_host_directory() {
        assert_eq!(relative_src("/etc/hosts"), PathBuf::from("etc/hosts"));
        assert_eq!(relative_src("/var/../../etc/./x"), PathBuf::from("etc/x"));
        assert_eq!(relative_src("rel/f"), PathBuf::from("rel/f"));
    }
    #[test]
    fn layout() {
        let dirs = vec![PathBuf::from("/play")];
        assert_eq!(local_dest(&dirs, "/etc/hosts", "out", false, "h1"), PathBuf::from("/play/out/h1/etc/hosts"));
        assert_eq!(local_dest(&dirs, "/etc/hosts", "/o/", true, "h1"), PathBuf::from("/o/hosts"));
        assert_eq!(local_dest(&dirs, "/etc/hosts", "/o/x", true, "h1"), PathBuf::from("/o/x"));
    }
}
