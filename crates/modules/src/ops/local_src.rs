//! A task's `src` on the controller: the role's files/ (copy, unarchive) or templates/ (template), then as given.
use std::path::{Path, PathBuf};

/// First existing `dir/sub/name`, then `dir/name`, over the search dirs; then the path itself.
pub fn find_local(search_dirs: &[PathBuf], sub: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    for d in search_dirs {
        for cand in [d.join(sub).join(name), d.join(name)] {
            if cand.exists() {
                return Some(cand);
            }
        }
    }
    p.exists().then(|| p.to_path_buf())
}
