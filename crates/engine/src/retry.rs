//! Retry files: after a run with failed or unreachable hosts, `<playbook>.retry` lists them one per
//! line; `--limit @file.retry` runs only those.
use std::path::{Path, PathBuf};

/// Where the retry file for `playbook` goes: `$MDXCONF_RETRY_DIR` or beside the playbook; a shard's
/// run writes `<stem>.shard-I-of-N.retry`, so N controllers sharing a directory keep their own.
pub fn retry_path(playbook: &Path, shard: Option<crate::shard::Shard>) -> PathBuf {
    let stem = playbook.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "playbook".into());
    let dir = match std::env::var_os("MDXCONF_RETRY_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => playbook.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from(".")),
    };
    match shard {
        Some(s) => dir.join(format!("{stem}.shard-{}-of-{}.retry", s.index, s.count)),
        None => dir.join(format!("{stem}.retry")),
    }
}

/// Write the host list atomically. Returns the path written.
pub fn write(playbook: &Path, shard: Option<crate::shard::Shard>, hosts: &[String]) -> std::io::Result<PathBuf> {
    let path = retry_path(playbook, shard);
    let mut text = hosts.join("\n");
    text.push('\n');
    mdxconf_config::fs::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Host names in a retry file (blank lines and `#` comments ignored).
pub fn read(path: &Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn roundtrip() {
        let d = tempfile::tempdir().unwrap();
        let pb = d.path().join("site.yml");
        let p = super::write(&pb, None, &["a".into(), "b".into()]).unwrap();
        assert_eq!(p, d.path().join("site.retry"));
        assert_eq!(super::read(&p).unwrap(), vec!["a", "b"]);
        let s = super::write(&pb, Some(crate::shard::Shard { index: 2, count: 3 }), &["c".into()]).unwrap();
        assert_eq!(s, d.path().join("site.shard-2-of-3.retry"));
        assert_eq!(super::read(&p).unwrap(), vec!["a", "b"], "a shard's retry file is its own");
    }
}
