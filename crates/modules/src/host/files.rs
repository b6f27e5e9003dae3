//! The state of many paths in one exec (copy of a directory tree): [`gather_script`] once per path,
//! separated by a marker line, without content.
use crate::context::ModuleCtx;
use crate::host::file::{gather_script, parse_gather, FileInfo, GatherOpts, Want};
use crate::util::{sh, sh_quote, text};
use anyhow::{bail, Result};

const NEXT: &str = "@@MDXCONF-NEXT@@";
/// Paths per exec: keeps the command well below what sshd accepts in one request.
const BATCH: usize = 200;

/// Script printing, for each of `dirs` that is not a directory, `missing=<dir>`, then the state of each path.
pub fn gather_many_script(dirs: &[String], paths: &[String], follow: bool) -> String {
    let mut s: String = dirs.iter().map(|d| format!("[ -d {q} ] || echo missing={q}\n", q = sh_quote(d))).collect();
    for p in paths {
        s += &format!("echo {NEXT}\n");
        s += &gather_script(p, &GatherOpts { follow, into_dir: None, checksum: true, want: Want::No });
    }
    s
}

/// The missing directories and one [`FileInfo`] per path.
pub fn parse_many(out: &[u8]) -> Result<(Vec<String>, Vec<FileInfo>)> {
    let out = text(out);
    let sep = format!("{NEXT}\n");
    let mut parts = out.split(&sep);
    let head = parts.next().unwrap_or_default();
    let missing = head.lines().filter_map(|l| l.strip_prefix("missing=")).map(str::to_string).collect();
    let infos = parts.map(|p| parse_gather(p.as_bytes())).collect::<Result<Vec<_>>>()?;
    Ok((missing, infos))
}

/// Run [`gather_many_script`] in batches (one exec for up to [`BATCH`] paths).
pub async fn gather_many(ctx: &ModuleCtx<'_>, dirs: &[String], paths: &[String], follow: bool) -> Result<(Vec<String>, Vec<FileInfo>)> {
    let mut missing = Vec::new();
    let mut infos = Vec::with_capacity(paths.len());
    let mut chunks: Vec<&[String]> = paths.chunks(BATCH).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    for (i, chunk) in chunks.into_iter().enumerate() {
        let d: &[String] = if i == 0 { dirs } else { &[] };
        let out = sh(ctx, &gather_many_script(d, chunk, follow), None).await?;
        if out.rc != 0 {
            bail!("could not inspect the destination tree: {}", text(&out.stderr).trim());
        }
        let (m, got) = parse_many(&out.stdout)?;
        if got.len() != chunk.len() {
            bail!("could not inspect the destination tree: {} answers for {} paths", got.len(), chunk.len());
        }
        missing.extend(m);
        infos.extend(got);
    }
    Ok((missing, infos))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sections() {
        let out = b"missing=/d/sub\n@@MDXCONF-NEXT@@\npath=/d/a\ntype=absent\nparent=1\n@@MDXCONF-NEXT@@\npath=/d/sub/b\ntype=absent\nparent=0\n";
        let (m, i) = parse_many(out).unwrap();
        assert_eq!(m, vec!["/d/sub"]);
        assert_eq!(i.len(), 2);
        assert_eq!(i[1].path, "/d/sub/b");
        assert!(!i[1].parent_is_dir);
        let s = gather_many_script(&["/d".into()], &["/d/a".into()], false);
        assert!(s.starts_with("[ -d /d ] || echo missing=/d\necho @@MDXCONF-NEXT@@\nd=/d/a\n"), "{s}");
    }
}
