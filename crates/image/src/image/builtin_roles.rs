//! Roles mdxconf adds to builds by itself (the `cloud_init` role), compiled into the binary, so a
//! definition kept outside this repository builds the same guest setup. A role of the same name on
//! the role search path wins; otherwise the built-in copy is written under the cache (one directory
//! per content hash, so a changed role never mixes with an older copy) and used from there.
use anyhow::{bail, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// (role, [(path inside the role, content)])
const ROLES: &[(&str, &[(&str, &str)])] = &[(
    "cloud_init",
    &[
        ("tasks/main.yml", include_str!("../../../../roles/cloud_init/tasks/main.yml")),
        ("defaults/main.yml", include_str!("../../../../roles/cloud_init/defaults/main.yml")),
        ("handlers/main.yml", include_str!("../../../../roles/cloud_init/handlers/main.yml")),
        ("vars/Debian.yml", include_str!("../../../../roles/cloud_init/vars/Debian.yml")),
        ("vars/Ubuntu.yml", include_str!("../../../../roles/cloud_init/vars/Ubuntu.yml")),
        ("templates/90-mdxconf.cfg.j2", include_str!("../../../../roles/cloud_init/templates/90-mdxconf.cfg.j2")),
        ("templates/mdxconf-first-login.service.j2", include_str!("../../../../roles/cloud_init/templates/mdxconf-first-login.service.j2")),
        ("templates/pam-passwd.j2", include_str!("../../../../roles/cloud_init/templates/pam-passwd.j2")),
        ("files/mdxconf-first-login", include_str!("../../../../roles/cloud_init/files/mdxconf-first-login")),
    ],
)];

/// The files of a built-in role.
pub fn files(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    ROLES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Writes the built-in role `name` under `cache_root` (once per content) and returns its directory.
pub fn materialize(cache_root: &Path, name: &str) -> Result<PathBuf> {
    let Some(files) = files(name) else { bail!("no built-in role `{name}`") };
    let mut h = Sha256::new();
    for (p, c) in files {
        h.update(p.as_bytes());
        h.update([0]);
        h.update(c.as_bytes());
        h.update([0]);
    }
    let id = hex::encode(&h.finalize()[..8]);
    let top = cache_root.join("roles").join(format!("builtin-{id}"));
    let dir = top.join(name);
    // the marker sits beside the role, not in it: the role's files are hashed into cache keys
    if top.join(".complete").exists() {
        return Ok(dir);
    }
    let tmp = cache_root.join("roles").join(format!(".builtin-{id}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for (p, c) in files {
        let f = tmp.join(name).join(p);
        std::fs::create_dir_all(f.parent().expect("role file has a directory"))?;
        crate::util::write_atomic(&f, c.as_ref())?;
    }
    crate::util::write_atomic(&tmp.join(".complete"), id.as_bytes())?;
    // another build may have written the same content meanwhile: either copy is right
    if std::fs::rename(&tmp, &top).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if !top.join(".complete").exists() {
        bail!("could not write the built-in role {name} to {}", dir.display());
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn built_in_role_matches_the_repository_and_materializes_once() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../roles/cloud_init");
        let files = files("cloud_init").unwrap();
        // every file of roles/cloud_init is compiled in (a new file must be added to ROLES)
        let mut on_disk = vec![];
        let mut stack = vec![repo.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    on_disk.push(e.path().strip_prefix(&repo).unwrap().display().to_string());
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
        let cache = tempfile::tempdir().unwrap();
        let a = materialize(cache.path(), "cloud_init").unwrap();
        assert_eq!(std::fs::read_to_string(a.join("tasks/main.yml")).unwrap(), std::fs::read_to_string(repo.join("tasks/main.yml")).unwrap());
        assert_eq!(materialize(cache.path(), "cloud_init").unwrap(), a);
        assert!(materialize(cache.path(), "nope").is_err());
    }
}
