//! Where a relative file of a playbook or role is found (a leaf of the playbook grammar).
use std::path::{Path, PathBuf};

/// Resolve a relative path against the include dirs, then the playbook dir.
pub fn resolve_rel(file: &str, dirs: &[PathBuf], playbook_dir: &Path) -> Option<PathBuf> {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    dirs.iter().map(PathBuf::as_path).chain(std::iter::once(playbook_dir)).map(|d| d.join(p)).find(|c| c.is_file())
}

pub fn show_dirs(dirs: &[PathBuf], playbook_dir: &Path) -> String {
    dirs.iter().map(PathBuf::as_path).chain(std::iter::once(playbook_dir)).map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}
