//! fetch: copy a file from the host to the controller, as Ansible's fetch does. Without `flat` the
//! file lands in `dest/<inventory_hostname>/<src path>` so hosts never overwrite each other; with
//! `flat`, in `dest` itself (or `dest/<basename>` when dest ends in `/`). The host's sha256 is
//! compared with the local file first, so an unchanged file costs one exec and is not transferred;
//! the local file is replaced atomically (temp file + rename in the same directory).
use super::fileops::{diff_text, sha256_hex};
use super::util::{failed, q, sh, text, Args, Spec};
use super::{Diff, ModuleCtx, ModuleResult};
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

pub const SPEC: Spec = Spec { args: &["src", "dest", "flat", "fail_on_missing", "validate_checksum|validate_md5"], required: &["src", "dest"] };

/// What the host says about `src`.
enum Remote {
    File { sha256: String },
    Missing,
    Directory,
    Unreadable(String),
}

/// One exec: the file's kind and sha256 (`file <sha>`, `missing`, `dir`, `unreadable <why>`).
async fn probe(ctx: &ModuleCtx<'_>, src: &str) -> Result<Remote> {
    let script = format!(
        "f={}; if [ -d \"$f\" ]; then echo dir; elif [ ! -e \"$f\" ]; then echo missing; \
         elif s=$(sha256sum < \"$f\" 2>&1); then echo \"file $s\"; else echo \"unreadable $s\"; fi",
        q(src)
    );
    let out = sh(ctx, &script, None).await?;
    let stdout = text(&out.stdout);
    let line = stdout.trim();
    if out.rc != 0 {
        bail!("fetch: inspecting {src} on the host failed (rc={}): {}", out.rc, text(&out.stderr).trim());
    }
    Ok(match line.split_once(' ').unwrap_or((line, "")) {
        ("dir", _) => Remote::Directory,
        ("missing", _) => Remote::Missing,
        ("file", rest) => Remote::File { sha256: rest.split_whitespace().next().unwrap_or("").to_string() },
        ("unreadable", why) => Remote::Unreadable(why.trim().to_string()),
        _ => bail!("fetch: unexpected answer from the host about {src}: {line:?}"),
    })
}

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
fn local_dest(ctx: &ModuleCtx<'_>, src: &str, dest: &str, flat: bool, host: &str) -> PathBuf {
    let expanded = match dest.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(rest),
        None => PathBuf::from(dest),
    };
    let base = if expanded.is_absolute() { expanded } else { ctx.search_dirs.last().cloned().unwrap_or_default().join(expanded) };
    if flat {
        if dest.ends_with('/') {
            base.join(Path::new(src).file_name().unwrap_or_default())
        } else {
            base
        }
    } else {
        base.join(host).join(relative_src(src))
    }
}

/// Replace `path` with `content` atomically; an existing file keeps its permissions.
fn write_local(path: &Path, content: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("fetch: cannot create {}", dir.display()))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.mdxconf-tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(content)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        bail!("fetch: cannot write {}: {e}", path.display());
    }
    Ok(())
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("fetch", &SPEC, args)?;
    let src = a.req("src")?;
    let dest_arg = a.req("dest")?;
    let flat = a.bool("flat", false)?;
    let fail_on_missing = a.bool("fail_on_missing", true)?;
    let validate = a.bool("validate_checksum", true)?;
    let host = ctx.vars.get("inventory_hostname").and_then(Value::as_str).unwrap_or_else(|| ctx.conn.host());
    let dest = local_dest(ctx, &src, &dest_arg, flat, host);

    let mut r = ModuleResult::default();
    r.data.insert("file".into(), src.clone().into());
    r.data.insert("dest".into(), dest.display().to_string().into());
    let remote_sha = match probe(ctx, &src).await? {
        Remote::File { sha256 } => sha256,
        Remote::Directory => return Ok(failed(format!("remote file {src} is a directory, fetch cannot work on directories"))),
        Remote::Missing if fail_on_missing => return Ok(failed(format!("the remote file {src} does not exist, not transferring"))),
        Remote::Missing => {
            r.msg = format!("the remote file {src} does not exist, not transferring, ignored");
            return Ok(r);
        }
        Remote::Unreadable(why) if fail_on_missing => return Ok(failed(format!("file {src} is not readable: {why}"))),
        Remote::Unreadable(why) => {
            r.msg = format!("file {src} is not readable, not transferring, ignored: {why}");
            return Ok(r);
        }
    };
    r.data.insert("remote_checksum".into(), remote_sha.clone().into());
    if dest.is_dir() {
        return Ok(failed(format!("dest {} is a directory; use a trailing / with flat to fetch into it", dest.display())));
    }
    let before = match std::fs::read(&dest) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => bail!("fetch: cannot read {}: {e}", dest.display()),
    };
    if before.as_deref().map(sha256_hex).as_deref() == Some(remote_sha.as_str()) {
        r.data.insert("checksum".into(), remote_sha.into());
        return Ok(r);
    }
    r.changed = true;
    r.data.insert("checksum".into(), remote_sha.clone().into());
    // Check mode transfers only to show the diff; nothing is written on the controller.
    if ctx.check && !ctx.diff {
        return Ok(r);
    }
    let out = sh(ctx, &format!("cat -- {}", q(&src)), None).await?;
    if out.rc != 0 {
        return Ok(failed(format!("reading {src} on the host failed (rc={}): {}", out.rc, text(&out.stderr).trim())));
    }
    let content = out.stdout;
    let got = sha256_hex(&content);
    if validate && got != remote_sha {
        return Ok(failed(format!(
            "checksum mismatch for {src}: the host reported sha256 {remote_sha} but {got} arrived (was it changing?); \
             {} left as it was",
            dest.display()
        )));
    }
    r.data.insert("checksum".into(), got.into());
    if ctx.diff {
        r.diff.push(Diff { path: dest.display().to_string(), before: before.as_deref().map(diff_text).unwrap_or_default(), after: diff_text(&content) });
    }
    if !ctx.check {
        write_local(&dest, &content)?;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::relative_src;
    use std::path::PathBuf;

    #[test]
    fn src_cannot_escape_the_host_directory() {
        assert_eq!(relative_src("/etc/hosts"), PathBuf::from("etc/hosts"));
        assert_eq!(relative_src("/var/../../etc/./x"), PathBuf::from("etc/x"));
        assert_eq!(relative_src("rel/f"), PathBuf::from("rel/f"));
    }
}
