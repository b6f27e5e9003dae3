//! `image diff` with the real CLI over build records as builds write them: the last two versions
//! by default, versions by number or cache-key prefix, packages added/removed/upgraded, kernels,
//! DKMS per kernel, definition keys, roles and the base build; unknown versions are named.
use mdxconf_image::image::cache::Cache;
use mdxconf_image::image::record::{BaseRef, BuildRecord};
use std::collections::BTreeMap;
use std::process::Command;

fn record(version: u64, key: &str, pkgs: &[(&str, &str)], kernels: &[&str], disk: &str, role_hash: &str, base_key: &str) -> BuildRecord {
    BuildRecord {
        name: "gpu".into(),
        version,
        cache_key: key.into(),
        base: Some(BaseRef { name: "debian12-server".into(), cache_key: base_key.into() }),
        finished_at: 1_700_000_000 + version * 86_400,
        kernels: kernels.iter().map(|s| s.to_string()).collect(),
        packages: pkgs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        dkms: kernels.iter().map(|k| (k.to_string(), vec![format!("nvidia/535, {k}, x86_64: installed")])).collect(),
        roles: vec!["nvidia_driver".into()],
        role_sha256: BTreeMap::from([("nvidia_driver".to_string(), role_hash.to_string())]),
        definition_sha256: disk.into(),
        inputs: serde_json::json!({"name": "gpu", "disk_size": disk, "roles": ["nvidia_driver"]}),
        ..Default::default()
    }
}

fn put(cache: &Cache, r: &BuildRecord) {
    let e = cache.entry(&r.name, &r.cache_key);
    std::fs::create_dir_all(&e.dir).unwrap();
    for f in [e.stage(), e.image()] {
        std::fs::write(f, b"").unwrap();
    }
    std::fs::write(e.record(), serde_json::to_vec(r).unwrap()).unwrap();
}

fn diff(cache: &Cache, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-image")).args(["image", "diff", "--cache-dir"]).arg(&cache.root).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn diff_lists_what_changed_between_versions() {
    let t = tempfile::tempdir().unwrap();
    let cache = Cache::new(Some(t.path().to_path_buf()));
    let (k1, k2) = ("6.1.0-47-amd64", "6.1.0-50-amd64");
    put(&cache, &record(1, "aaaa1111", &[("openssh-server", "1:9.2p1-2+deb12u6"), ("curl", "7.88.1-10"), ("nano", "7.2-1")], &[k1], "8G", "r1", "b1"));
    put(&cache, &record(2, "bbbb2222", &[("openssh-server", "1:9.2p1-2+deb12u7"), ("curl", "7.88.1-10"), ("vim", "2:9.0")], &[k1, k2], "8G", "r1", "b2"));
    put(&cache, &record(3, "cccc3333", &[("openssh-server", "1:9.2p1-2+deb12u7"), ("curl", "7.88.1-10"), ("vim", "2:9.0")], &[k2], "16G", "r2", "b2"));
    assert_eq!(cache.next_version("gpu"), 4, "the next build numbers itself after the highest");
    assert_eq!(cache.next_version("other"), 1);

    // default: the last two (v2 -> v3)
    let (code, out, err) = diff(&cache, &["gpu", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((d["from"]["version"].as_u64(), d["to"]["version"].as_u64()), (Some(2), Some(3)));
    assert_eq!(d["kernels_removed"], serde_json::json!([k1]));
    assert_eq!(d["definition_changes"], serde_json::json!(["disk_size"]));
    assert_eq!(d["roles_changed"], serde_json::json!(["nvidia_driver"]));
    assert!(d["packages_upgraded"].as_array().unwrap().is_empty());
    assert!(d["dkms"].get(k1).is_some(), "DKMS lines of the dropped kernel: {d}");

    // v1 -> v2 by number and by key prefix: the human changelog
    let (code, out, err) = diff(&cache, &["gpu", "v1", "bbbb"]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "gpu v1 (aaaa1111) -> v2 (bbbb2222)",
        "kernel added: 6.1.0-50-amd64",
        "upgraded openssh-server 1:9.2p1-2+deb12u6 -> 1:9.2p1-2+deb12u7",
        "added vim 2:9.0",
        "removed nano 7.2-1",
        "DKMS on 6.1.0-50-amd64",
        "base debian12-server rebuilt: b1 -> b2",
    ] {
        assert!(out.contains(want), "missing `{want}` in:\n{out}");
    }
    assert!(!out.contains("curl"), "unchanged packages are not listed:\n{out}");
    // a version that is not there names those that are
    let (code, _, err) = diff(&cache, &["gpu", "9"]);
    assert_ne!(code, 0);
    assert!(err.contains("no version `9`") && err.contains("v1 (aaaa1111)"), "{err}");
    let (code, _, err) = diff(&cache, &["nosuch"]);
    assert_ne!(code, 0);
    assert!(err.contains("no builds of `nosuch`"), "{err}");
}
