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

/// A controller file's bytes; a vault-encrypted one is decrypted first (Ansible's `decrypt: true`, the
/// default of copy and unarchive). The error names the file, never its content.
pub fn read_local(path: &Path, decrypt: bool, module: &str) -> anyhow::Result<Vec<u8>> {
    if !decrypt {
        return std::fs::read(path).map_err(|e| anyhow::anyhow!("{module}: reading {}: {e}", path.display()));
    }
    mdxconf_config::vault::store::read_file(path).map_err(|e| anyhow::anyhow!("{module}: {e}"))
}
