//! mdx portal helpers: inventory from the portal's VM CSV, first-login password set.
pub mod cli;
pub mod inventory_ini;
pub mod passwdinit;
pub mod tty;
pub mod vm_csv;

use std::io::Write;
use std::path::Path;

/// Write a file atomically: a temporary file in the same directory, fsync, then rename over the target,
/// so a reader never sees half an inventory.
pub fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(content)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
