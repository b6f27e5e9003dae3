//! Local files written whole or not at all.
use std::io::Write;
use std::path::Path;

/// Write a file atomically: a temporary file in the same directory (created if missing), fsync, then
/// rename over the target, so a reader (or a crash) never sees half an inventory or build record.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn writes_whole_file_and_creates_the_directory() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/inventory.ini");
        super::write_atomic(&p, b"[all]\nvm1\n").unwrap();
        super::write_atomic(&p, b"[all]\nvm2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[all]\nvm2\n");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1, "no temp file left");
    }
}
