//! copy with remote_src of a directory (Ansible copies the tree): `src/` copies its contents into
//! dest, `src` the directory itself. One exec lists the source (modes, sha256), one reads the
//! destination's state; each new or changed file is copied to a temp file beside its destination,
//! given its mode and owner, and renamed, so a reader never sees half a file.
use crate::host::file::Kind;
use crate::host::files::gather_many;
use crate::host::tree::{parse_tree, tree_script, TreeEntry};
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::util::{sh, sh_quote as q, text};
use crate::{Args, Diff, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{anyhow, Result};
use serde_json::Value;
use std::path::Path;

pub async fn plan_remote_tree(ctx: &ModuleCtx<'_>, a: &Args, src: &str, dest: &str) -> Result<Plan> {
    let out = sh(ctx, &tree_script(src), None).await?;
    if out.rc != 0 {
        return Ok(Plan::failed(format!("copy: cannot read remote src {src}: {}", text(&out.stderr).trim())));
    }
    let entries = parse_tree(&out.stdout).map_err(|e| anyhow!("copy: {e}"))?;
    let root = src.trim_end_matches('/');
    let name = Path::new(root).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base = if src.ends_with('/') { dest.trim_end_matches('/').to_string() } else { format!("{}/{name}", dest.trim_end_matches('/')) };
    let attrs = Attrs::from_args(a)?;
    // `directory_mode` as an octal mode; machine-configs writes `directory_mode: yes`, which Ansible ignores
    let dir_mode = match a.raw("directory_mode") {
        Some(Value::Bool(_)) | None => None,
        Some(v) => Some(ModeSpec::parse("copy", v)?),
    };
    let mut dirs = vec![base.clone()];
    let mut files = vec![];
    for e in &entries {
        match e {
            TreeEntry::Dir { rel, .. } => dirs.push(format!("{base}/{rel}")),
            TreeEntry::File { rel, mode, sha256 } => files.push((rel.clone(), *mode, sha256.clone())),
        }
    }
    let dests: Vec<String> = files.iter().map(|(rel, ..)| format!("{base}/{rel}")).collect();
    let (missing, infos) = gather_many(ctx, &dirs, &dests, false).await?;
    let chown = match (&attrs.owner, &attrs.group) {
        (Some(o), Some(g)) => Some(format!("{o}:{g}")),
        (Some(o), None) => Some(o.clone()),
        (None, Some(g)) => Some(format!(":{g}")),
        (None, None) => None,
    };
    let mut s = String::from("set -e\n");
    let mut after = String::new();
    for m in &missing {
        s += &format!("mkdir -p -- {}\n", q(m));
        if let Some(ModeSpec::Octal(o)) = &dir_mode {
            s += &format!("chmod {o:04o} -- {}\n", q(m));
        }
        if let Some(c) = &chown {
            s += &format!("chown -- {} {}\n", q(c), q(m));
        }
        after += &format!("directory: {m}\n");
    }
    for ((rel, mode, sha), info) in files.iter().zip(&infos) {
        let owner_differs = attrs.owner.as_deref().is_some_and(|o| o != info.owner) || attrs.group.as_deref().is_some_and(|g| g != info.group);
        let content_differs = info.kind != Kind::File || info.sha256.as_deref() != Some(sha.as_str());
        if !content_differs && !owner_differs {
            continue;
        }
        let (from, to) = (format!("{root}/{rel}"), format!("{base}/{rel}"));
        let mode = match &attrs.mode {
            Some(ModeSpec::Octal(o)) => format!("{o:04o}"),
            Some(ModeSpec::Symbolic(sym)) => sym.clone(),
            // `preserve` and no mode: the source file's mode
            _ => format!("{mode:04o}"),
        };
        if content_differs {
            s += &format!("t={}.mdxconf-tmp.$$\ncp -- {} \"$t\"\nchmod {} \"$t\"\n", q(&to), q(&from), q(&mode));
            if let Some(c) = &chown {
                s += &format!("chown -- {} \"$t\"\n", q(c));
            }
            s += &format!("mv -f -- \"$t\" {}\n", q(&to));
        } else if let Some(c) = &chown {
            s += &format!("chown -- {} {}\n", q(c), q(&to));
        }
        after += &format!("file: {to}\n");
    }
    let mut r = ModuleResult::default();
    r.data.insert("dest".into(), base.clone().into());
    r.data.insert("src".into(), src.into());
    if after.is_empty() {
        return Ok(Plan::done(r));
    }
    r.diff.push(Diff { path: base, before: String::new(), after });
    Ok(Plan::change(r, vec![Step::run("copy: copying the remote tree failed", s)]))
}
