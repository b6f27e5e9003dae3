//! `image prune` with the real CLI on a cache laid out as builds leave it (qcow2 disks made by
//! qemu-img, the overlay's stage backed by its base's image, records as the build writes them) and a
//! real process holding a build's disk open: --dry-run removes nothing; the newest build, the --keep
//! newest, the base of a kept overlay and a build in use stay; the rest goes.
use mdxconf_image::image::cache::Cache;
use mdxconf_image::image::record::{now, BaseRef, BuildRecord};
use std::path::Path;
use std::process::Command;

const DAY: u64 = 86_400;

fn qemu_img(args: &[&str]) {
    let st = Command::new("qemu-img").args(args).output().unwrap();
    assert!(st.status.success(), "qemu-img {args:?}: {}", String::from_utf8_lossy(&st.stderr));
}

/// One complete build `name/key`, finished `age_days` ago, on `base` (name, key).
fn build(cache: &Cache, name: &str, key: &str, age_days: u64, base: Option<(&str, &str)>, latest: bool) {
    let e = cache.entry(name, key);
    std::fs::create_dir_all(&e.dir).unwrap();
    match base {
        Some((bn, bk)) => {
            let b = cache.entry(bn, bk).image();
            qemu_img(&["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", b.to_str().unwrap(), e.stage().to_str().unwrap()]);
        }
        None => qemu_img(&["create", "-q", "-f", "qcow2", e.stage().to_str().unwrap(), "64M"]),
    }
    qemu_img(&["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", e.stage().to_str().unwrap(), e.image().to_str().unwrap()]);
    let rec = BuildRecord {
        name: name.into(),
        cache_key: key.into(),
        base: base.map(|(n, k)| BaseRef { name: n.into(), cache_key: k.into() }),
        finished_at: now() - age_days * DAY,
        ..Default::default()
    };
    std::fs::write(e.record(), serde_json::to_vec(&rec).unwrap()).unwrap();
    if latest {
        cache.set_latest(name, key).unwrap();
    }
}

fn prune(cache: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-image")).args(["image", "prune", "--format", "json", "--cache-dir"]).arg(cache).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), doc, err)
}

fn keys(doc: &serde_json::Value, list: &str) -> Vec<String> {
    let mut v: Vec<String> = doc[list].as_array().unwrap().iter().map(|e| format!("{}/{}", e["name"].as_str().unwrap(), e["key"].as_str().unwrap())).collect();
    v.sort();
    v
}

#[test]
fn prune_keeps_the_newest_kept_bases_and_builds_in_use() {
    let t = tempfile::tempdir().unwrap();
    let cache = Cache::new(Some(t.path().to_path_buf()));
    build(&cache, "base", "k1", 30, None, false);
    build(&cache, "base", "k2", 20, None, false);
    build(&cache, "base", "k3", 1, None, true);
    build(&cache, "over", "o1", 29, Some(("base", "k1")), false);
    build(&cache, "over", "o2", 25, Some(("base", "k1")), false);
    // the newest overlay is still on the older base k2 (its base was rebuilt since)
    build(&cache, "over", "o3", 19, Some(("base", "k2")), true);
    build(&cache, "busy", "b1", 40, None, false);
    build(&cache, "busy", "b2", 2, None, true);
    // a VM running on busy/b1: a real process with its disk open
    let disk = cache.entry("busy", "b1").image();
    let mut holder = Command::new("sh").arg("-c").arg(format!("exec 3<'{}'; exec sleep 120", disk.display())).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));

    // bad requests say what to write
    let (code, _, err) = prune(t.path(), &[]);
    assert_ne!(code, 0);
    assert!(err.contains("--keep N"), "{err}");
    let (code, _, err) = prune(t.path(), &["--keep", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("at least 1"), "{err}");
    let (code, _, err) = prune(t.path(), &["--older-than", "3y"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown unit"), "{err}");

    // --keep 2 --dry-run: o2 is kept, so is its base k1
    let (code, doc, err) = prune(t.path(), &["--keep", "2", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(keys(&doc, "removed"), vec!["over/o1"]);
    // --keep 1 --dry-run: names what would go, removes nothing
    let (code, doc, err) = prune(t.path(), &["--keep", "1", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(keys(&doc, "removed"), vec!["base/k1", "over/o1", "over/o2"]);
    let why = |k: &str| {
        doc["kept"].as_array().unwrap().iter().find(|e| format!("{}/{}", e["name"].as_str().unwrap(), e["key"].as_str().unwrap()) == k).unwrap()["kept_because"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(why("base/k2").contains("base of kept over o3"), "{}", why("base/k2"));
    assert_eq!(why("base/k3"), "newest build");
    assert!(why("busy/b1").contains("in use"), "{}", why("busy/b1"));
    assert!(cache.entry("base", "k1").is_complete() && cache.entry("over", "o1").is_complete(), "a dry run removes nothing");

    // --older-than 26d with --keep 1: o2 (25 days) is young enough to stay, and keeps k1
    let (_, doc, _) = prune(t.path(), &["--keep", "1", "--older-than", "26d", "--dry-run"]);
    assert_eq!(keys(&doc, "removed"), vec!["over/o1"]);

    // the real run
    let (code, doc, err) = prune(t.path(), &["--keep", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(keys(&doc, "removed"), vec!["base/k1", "over/o1", "over/o2"]);
    for (n, k) in [("base", "k1"), ("over", "o1"), ("over", "o2")] {
        assert!(!cache.entry(n, k).dir.exists(), "{n}/{k} removed");
    }
    for (n, k) in [("base", "k2"), ("base", "k3"), ("over", "o3"), ("busy", "b1"), ("busy", "b2")] {
        assert!(cache.entry(n, k).is_complete(), "{n}/{k} kept");
    }
    // the kept overlay still opens through its base
    qemu_img(&["info", "-U", "--backing-chain", cache.entry("over", "o3").image().to_str().unwrap()]);
    // once the VM is gone, busy/b1 can go
    holder.kill().unwrap();
    holder.wait().unwrap();
    let (_, doc, _) = prune(t.path(), &["--keep", "1", "busy"]);
    assert_eq!(keys(&doc, "removed"), vec!["busy/b1"]);
}
