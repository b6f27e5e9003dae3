//! local and chroot connections (real processes, a real chroot tree).
use crate::common;
use common::*;
use mdxconf_transport::*;
use std::path::Path;

/// Copy `bin` and the shared libraries ldd lists into `root`, at the same paths.
fn install(root: &Path, bin: &str) {
    let real = std::fs::canonicalize(bin).unwrap();
    let mut files = vec![(real.clone(), Path::new(bin).to_path_buf())];
    let ldd = std::process::Command::new("ldd").arg(&real).output().unwrap();
    for line in String::from_utf8_lossy(&ldd.stdout).lines() {
        if let Some(p) = line.split_whitespace().find(|w| w.starts_with('/')) {
            files.push((std::fs::canonicalize(p).unwrap(), Path::new(p).to_path_buf()));
        }
    }
    for (src, dst) in files {
        let to = root.join(dst.strip_prefix("/").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&src, &to).unwrap();
    }
}

#[tokio::test]
async fn local_runs_sh_on_the_controller() {
    let _env = crate::common::env_shared();
    let c = local("localhost");
    assert_eq!(c.host(), "localhost");
    let out = run(&*c, "echo out; echo err >&2; exit 4").await;
    assert_eq!((out.rc, text(&out.stdout), text(&out.stderr)), (4, "out\n".into(), "err\n".into()));
    let data = vec![7u8; 2_000_000];
    assert_eq!(c.exec("cat", Some(data.clone())).await.unwrap().stdout, data);
    // A child shell, not this process.
    assert_ne!(run(&*c, "echo $$").await.stdout, format!("{}\n", std::process::id()).into_bytes());

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f");
    let out = put(&*c, p.to_str().unwrap(), b"hello".to_vec()).await;
    assert_eq!(out.rc, 0, "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&p).unwrap(), b"hello");
    assert_eq!(remote_sha256(&*c, p.to_str().unwrap(), None).await.unwrap(), Some(sha256_hex(b"hello")));
}

#[tokio::test]
async fn chroot_runs_inside_the_tree() {
    let _env = crate::common::env_shared();
    let root = tempfile::tempdir().unwrap();
    for b in ["/bin/sh", "/bin/cat", "/bin/mv", "/bin/chmod", "/bin/rm", "/usr/bin/sha256sum", "/usr/bin/id"] {
        install(root.path(), b);
    }
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    let c = chroot("image", root.path().to_path_buf());
    // `/` inside is the tree: a marker written to /marker lands in ROOT/marker.
    let out = run(&*c, "echo inside > /marker; echo $((6*7))").await;
    assert_eq!(text(&out.stdout), "42\n");
    assert_eq!(std::fs::read_to_string(root.path().join("marker")).unwrap(), "inside\n");
    assert!(!Path::new("/marker").exists());

    let out = put(&*c, "/etc/motd", b"built by mdxconf\n".to_vec()).await;
    assert_eq!(out.rc, 0, "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(root.path().join("etc/motd")).unwrap(), "built by mdxconf\n");
    assert_eq!(remote_sha256(&*c, "/etc/motd", Some("root")).await.unwrap(), Some(sha256_hex(b"built by mdxconf\n")));
    assert_eq!(remote_sha256(&*c, "/etc/none", None).await.unwrap(), None);

    // A tree without a shell is reported, not silently run on the host.
    let empty = tempfile::tempdir().unwrap();
    let err = chroot("empty", empty.path().to_path_buf()).exec("true", None).await.err().unwrap();
    assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
}
