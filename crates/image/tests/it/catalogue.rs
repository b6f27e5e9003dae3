//! `image build DIR` over a catalogue, with the real CLI: bad catalogues are refused naming both
//! files before anything builds; a failing base stops only the images on it (they are skipped, an
//! unrelated image is still attempted), the summary table and JSON say so, the exit code is 1.
//! The failures are real: mmdebstrap against a mirror nobody answers (127.0.0.1:9), so no VM boots.
use std::path::Path;
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mdxconf-image")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const ROOT: &str = "source:\n  rootfs:\n    suite: bookworm\n    mirror: http://127.0.0.1:9/debian\n    variant: minbase\ndisk_size: 2G\noutputs: [qcow2]\n";

fn run(dir: &Path, cache: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(["image", "build"])
        .arg(dir)
        .args(["--cache-dir"])
        .arg(cache)
        .arg("--output-dir")
        .arg(cache.join("out"))
        .arg("--quiet")
        .args(extra)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_catalogues_name_the_files_before_anything_builds() {
    let t = tempfile::tempdir().unwrap();
    let (cat, cache) = (t.path().join("images"), t.path().join("cache"));
    std::fs::create_dir_all(&cat).unwrap();
    // two files, one name
    write(&cat, "a.yaml", &format!("name: same\n{ROOT}"));
    write(&cat, "b.yaml", &format!("description: x\nname: same\n{ROOT}"));
    let (code, _, err) = run(&cat, &cache, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("b.yaml:2:") && err.contains("also defined in") && err.contains("a.yaml"), "{err}");
    // a base that is nowhere
    write(&cat, "b.yaml", "name: over\nbase: missing\noutputs: [qcow2]\n");
    let (code, _, err) = run(&cat, &cache, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("b.yaml:2:") && err.contains("missing.yaml") && err.contains("neither in this catalogue"), "{err}");
    // a cycle: x -> y -> x
    std::fs::remove_file(cat.join("b.yaml")).unwrap();
    write(&cat, "x.yaml", "name: x\nbase: y\noutputs: [qcow2]\n");
    write(&cat, "y.yaml", "name: y\nbase: x\noutputs: [qcow2]\n");
    let (code, _, err) = run(&cat, &cache, &[]);
    assert_ne!(code, 0);
    assert!(err.contains("cycle") && err.contains("x.yaml") && err.contains("y.yaml"), "{err}");
    assert!(!cache.join("images").exists(), "nothing was built or cached");
}

#[test]
fn a_failed_base_stops_only_its_overlays() {
    let t = tempfile::tempdir().unwrap();
    let (cat, cache) = (t.path().join("images"), t.path().join("cache"));
    std::fs::create_dir_all(&cat).unwrap();
    // file names sort the overlay first: the order comes from the bases, not the names
    write(&cat, "a-overlay.yaml", "name: a-overlay\nbase: root-one\noutputs: [qcow2]\n");
    write(&cat, "b-overlay2.yaml", "name: b-overlay2\nbase: a-overlay\noutputs: [qcow2]\n");
    write(&cat, "root-one.yaml", &format!("name: root-one\n{ROOT}"));
    write(&cat, "root-two.yaml", &format!("name: root-two\n{ROOT}"));
    let (code, out, err) = run(&cat, &cache, &["--format", "json", "--jobs", "2"]);
    assert_eq!(code, 1, "a failed image makes the exit code 1\n{out}\n{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let status = |n: &str| doc["images"].as_array().unwrap().iter().find(|o| o["name"] == n).unwrap_or_else(|| panic!("{n} in {doc:#}"))["status"].as_str().unwrap().to_string();
    assert_eq!(status("root-one"), "failed");
    assert_eq!(status("root-two"), "failed", "an unrelated image is still attempted");
    assert_eq!(status("a-overlay"), "skipped");
    assert_eq!(status("b-overlay2"), "skipped", "an overlay of a skipped image is skipped too");
    let names: Vec<&str> = doc["images"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(pos("root-one") < pos("a-overlay") && pos("a-overlay") < pos("b-overlay2"), "bases first: {names:?}");
    let root_err = doc["images"].as_array().unwrap().iter().find(|o| o["name"] == "root-one").unwrap()["error"].as_str().unwrap().to_string();
    assert!(!root_err.is_empty());
    assert!(doc["images"].as_array().unwrap().iter().find(|o| o["name"] == "a-overlay").unwrap()["error"].as_str().unwrap().contains("root-one"));
    assert_eq!(doc["jobs"], 2);
    // the human table: one line per image and the totals
    let (code, out, _) = run(&cat, &cache, &[]);
    assert_eq!(code, 1);
    assert!(out.starts_with("IMAGE"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("a-overlay") && l.contains("skipped") && l.contains("on root-one")), "{out}");
    assert!(out.contains("4 images in") && out.contains("0 built, 0 refreshed, 0 cached, 2 failed, 2 skipped"), "{out}");
    // several files are a catalogue too: only what they name (and the order their bases give)
    let out = Command::new(bin())
        .args(["image", "build", "--quiet", "--format", "json", "--cache-dir"])
        .arg(&cache)
        .arg(cat.join("a-overlay.yaml"))
        .arg(cat.join("root-one.yaml"))
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let names: Vec<&str> = doc["images"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["root-one", "a-overlay"]);
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    assert!((1..=(cores / 2).max(1)).contains(&doc["jobs"].as_u64().unwrap()), "default jobs: one per two cores: {}", doc["jobs"]);
}

/// The real thing, on the images the other image tests build into the test cache (so normally all
/// cache hits): debian12-server and the overlay fixture debian12-role as a catalogue of two files,
/// then the report and a prune dry run over that cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_catalogue_builds_reports_and_prunes() {
    let _l = crate::common::VM_LOCK.lock().await;
    let out = tempfile::tempdir().unwrap();
    let cache = crate::common::cache_dir();
    let (server, role) = (crate::common::repo().join("images/debian12-server.yaml"), crate::common::fixtures().join("debian12-role.yaml"));
    let o = Command::new(bin())
        .args(["image", "build", "--quiet", "--format", "json", "--cache-dir"])
        .arg(&cache)
        .arg("--output-dir")
        .arg(out.path())
        .arg(&role)
        .arg(&server)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(o.status.code(), Some(0), "{doc:#}");
    let images = doc["images"].as_array().unwrap();
    let names: Vec<&str> = images.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["debian12-server", "debian12-role-test"], "the base first");
    for i in images {
        assert!(matches!(i["status"].as_str(), Some("built" | "cached")), "{i}");
        for p in i["outputs"].as_array().unwrap() {
            assert!(Path::new(p.as_str().unwrap()).is_file(), "output {p}");
        }
    }
    assert_eq!(images[1]["base"], "debian12-server");
    // the report over the same cache lists both, each with its version
    let site = out.path().join("site");
    let r = Command::new(bin()).args(["image", "report", "--cache-dir"]).arg(&cache).arg("--output").arg(&site).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let cat: serde_json::Value = serde_json::from_slice(&std::fs::read(site.join("catalogue.json")).unwrap()).unwrap();
    for n in &names {
        let row = cat["templates"].as_array().unwrap().iter().find(|t| t["name"] == *n).unwrap_or_else(|| panic!("{n} in the report"));
        assert!(row["kernel"].as_str().unwrap().ends_with("-amd64"), "{row}");
    }
    // a dry run never offers the newest build of either
    let p = Command::new(bin()).args(["image", "prune", "--keep", "1", "--dry-run", "--format", "json", "--cache-dir"]).arg(&cache).args(&names).output().unwrap();
    let pd: serde_json::Value = serde_json::from_slice(&p.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&p.stderr)));
    for i in images {
        let key = Path::new(i["image"].as_str().unwrap()).parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        assert!(pd["removed"].as_array().unwrap().iter().all(|e| e["key"] != key.as_str()), "the newest {key} stays");
    }
}

/// What a scheduled rebuild does, through the CLI: debian12-server and two overlays on it (one on
/// the other, the first installing a package with apt) as one catalogue, with `--refresh` and a
/// package cache of its own. The overlays also watch a Release file served here, so "upstream
/// changed" is in the test's hands. Run 1 builds the overlays through a cold package cache; run 2
/// (nothing changed) is all cache hits; run 3 (a changed index) rebuilds both overlays through the
/// now warm cache, which downloads less than run 1; the report lists all three with their versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalogue_refreshes_through_a_shared_package_cache() {
    use mdxconf_image::image::http::HttpServer;
    let _l = crate::common::VM_LOCK.lock().await;
    let t = tempfile::tempdir().unwrap();
    let (pkgs, out) = (t.path().join("packages"), t.path().join("out"));
    // a fresh index digest per test run, so run 1 always builds
    let nonce = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let release = |n: &str| format!("Origin: mdxconf test\nSuite: t\nDate: Mon, 02 Nov 2026 08:00:00 UTC\nSHA256:\n {:0>64} 1234 main/binary-amd64/Packages\n", n).into_bytes();
    let srv = HttpServer::start(std::collections::BTreeMap::from([("dists/t/InRelease".to_string(), release(&nonce))]), None).await.unwrap();
    let server = crate::common::repo().join("images/debian12-server.yaml");
    let upstream = format!("upstream:\n  - http://127.0.0.1:{}/dists/t/InRelease\n", srv.port);
    let a = t.path().join("cat-apt.yaml");
    let b = t.path().join("cat-marker.yaml");
    write(
        t.path(),
        "cat-apt.yaml",
        &format!("name: cat-apt\nbase: {}\nroles:\n  - role: mdxconf_image_apt\n    vars: {{apt_package: tree}}\n{upstream}outputs: [qcow2]\n", server.display()),
    );
    write(
        t.path(),
        "cat-marker.yaml",
        &format!("name: cat-marker\nbase: cat-apt.yaml\nroles:\n  - role: mdxconf_image_test\n    vars: {{marker_text: catalogue}}\n{upstream}outputs: [qcow2]\n"),
    );
    let cache = crate::common::cache_dir();
    let build = || {
        let mut c = tokio::process::Command::new(bin());
        c.args(["image", "build", "--refresh", "--quiet", "--format", "json", "--package-cache", "on", "--package-cache-dir"])
            .arg(&pkgs)
            .arg("--roles-path")
            .arg(crate::common::fixtures().join("roles"))
            .arg("--cache-dir")
            .arg(&cache)
            .arg("--output-dir")
            .arg(&out)
            .args([&b, &a, &server]);
        async move {
            let o = c.output().await.unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
            assert_eq!(o.status.code(), Some(0), "{doc:#}");
            let status: Vec<(String, String)> =
                doc["images"].as_array().unwrap().iter().map(|i| (i["name"].as_str().unwrap().to_string(), i["status"].as_str().unwrap().to_string())).collect();
            (doc, status)
        }
    };
    let pair = |n: &str, s: &str| (n.to_string(), s.to_string());

    let (one, st) = build().await;
    assert_eq!(st[0].0, "debian12-server", "the base first: {st:?}");
    assert!(matches!(st[0].1.as_str(), "cached" | "refreshed"), "{st:?}");
    assert_eq!(st[1..], [pair("cat-apt", "refreshed"), pair("cat-marker", "refreshed")]);
    let cold = one["package_cache"].clone();
    assert!(cold["upstream_bytes"].as_u64().unwrap() > 0 && cold["requests"].as_u64().unwrap() > 0, "the guests' apt went through the cache: {cold}");

    let (two, st) = build().await;
    assert_eq!(st, vec![pair("debian12-server", "cached"), pair("cat-apt", "cached"), pair("cat-marker", "cached")], "nothing changed upstream");
    assert_eq!(two["package_cache"]["requests"], 0, "cache hits fetch no packages");

    srv.set_file("dists/t/InRelease", release(&format!("{nonce}1")));
    let (three, st) = build().await;
    assert_eq!(st, vec![pair("debian12-server", "cached"), pair("cat-apt", "refreshed"), pair("cat-marker", "refreshed")], "a changed index rebuilds what watches it");
    let warm = three["package_cache"].clone();
    assert!(warm["served_bytes"].as_u64().unwrap() > 0, "{warm}");
    assert!(warm["upstream_bytes"].as_u64().unwrap() < cold["upstream_bytes"].as_u64().unwrap(), "the warm cache downloads less: cold {cold}, warm {warm}");

    // the report: each template once, the overlays in their second version of this test
    let site = t.path().join("site");
    let r = Command::new(bin()).args(["image", "report", "--cache-dir"]).arg(&cache).arg("--output").arg(&site).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let cat: serde_json::Value = serde_json::from_slice(&std::fs::read(site.join("catalogue.json")).unwrap()).unwrap();
    let row = |n: &str| cat["templates"].as_array().unwrap().iter().find(|t| t["name"] == n).cloned().unwrap_or_else(|| panic!("{n} in {cat:#}"));
    for n in ["cat-apt", "cat-marker"] {
        assert!(row(n)["version"].as_u64().unwrap() >= 2, "{}", row(n));
    }
    assert!(row("debian12-server")["kernel"].as_str().unwrap().ends_with("-amd64"));
}
