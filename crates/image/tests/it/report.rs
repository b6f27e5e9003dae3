//! `image report` with the real CLI, looked at in a real headless browser (Debian's chromium): the
//! index has one row per template with its version, kernel and last change, every changelog link
//! opens a page that lists the changes, catalogue.json holds the same data, and a screenshot is
//! taken (kept under target/ to look at).
use mdxconf_image::image::cache::Cache;
use mdxconf_image::image::record::{now, BaseRef, BuildRecord};
use std::path::Path;
use std::process::Command;

/// A build record as a build writes it.
fn rec(name: &str, version: u64, key: &str, days_ago: u64, kernel: &str, pkgs: &[(&str, &str)]) -> BuildRecord {
    BuildRecord {
        name: name.into(),
        version,
        cache_key: key.into(),
        finished_at: now() - days_ago * 86_400,
        kernels: vec![kernel.into()],
        packages: pkgs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        definition_sha256: "d".into(),
        ..Default::default()
    }
}

/// A complete cache entry holding `r`.
fn put(cache: &Cache, r: BuildRecord) {
    let e = cache.entry(&r.name, &r.cache_key);
    std::fs::create_dir_all(&e.dir).unwrap();
    std::fs::write(e.stage(), vec![1u8; 3 << 20]).unwrap();
    std::fs::write(e.image(), b"").unwrap();
    std::fs::write(e.record(), serde_json::to_vec(&r).unwrap()).unwrap();
}

fn chromium(args: &[&str], url: &str) -> String {
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=/tmp/mdxconf-report-chromium"])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is installed by scripts/bootstrap.sh");
    assert!(out.status.success(), "chromium {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn the_catalogue_page_shows_every_template_and_its_changelogs_in_a_browser() {
    let t = tempfile::tempdir().unwrap();
    let cache = Cache::new(Some(t.path().join("cache")));
    put(&cache, rec("debian12-server", 1, "aaaa", 9, "6.1.0-47-amd64", &[("openssh-server", "1:9.2p1-2+deb12u6"), ("curl", "7.88.1-10")]));
    put(&cache, rec("debian12-server", 2, "bbbb", 2, "6.1.0-50-amd64", &[("openssh-server", "1:9.2p1-2+deb12u7"), ("curl", "7.88.1-10"), ("<b>odd</b>", "1")]));
    let gpu = rec("debian12-gpu", 1, "cccc", 1, "6.1.0-50-amd64", &[("nvidia-driver", "535.216")]);
    put(&cache, BuildRecord { base: Some(BaseRef { name: "debian12-server".into(), cache_key: "bbbb".into() }), ..gpu });
    let out = t.path().join("site");
    let st = Command::new(env!("CARGO_BIN_EXE_mdxconf-image")).args(["image", "report", "--cache-dir"]).arg(&cache.root).arg("--output").arg(&out).output().unwrap();
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    assert!(String::from_utf8_lossy(&st.stdout).contains("2 templates"));

    // the JSON
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("catalogue.json")).unwrap()).unwrap();
    let server = doc["templates"].as_array().unwrap().iter().find(|t| t["name"] == "debian12-server").unwrap();
    assert_eq!(server["version"], 2);
    assert_eq!(server["age_days"], 2);
    assert_eq!(server["versions"].as_array().unwrap().len(), 2);
    assert!(server["last_change"].as_str().unwrap().contains("kernel 6.1.0-50-amd64"), "{server}");
    assert!(server["bytes"].as_u64().unwrap() >= 3 << 20);

    // the page as the browser renders it
    let dom = chromium(&["--dump-dom"], &url(&out.join("index.html")));
    assert!(dom.contains("mdx template catalogue"), "{dom}");
    assert_eq!(dom.matches("<tr id=").count(), 2, "one row per template:\n{dom}");
    for want in ["debian12-gpu", "on debian12-server", "v2", "6.1.0-50-amd64", "1 package upgraded", "first build"] {
        assert!(dom.contains(want), "missing `{want}` in the rendered page:\n{dom}");
    }
    // every changelog link opens, and says what changed
    let links: Vec<String> = dom.split("href=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).filter(|h| h.ends_with(".html")).collect();
    assert_eq!(links.len(), 3, "{links:?}");
    for l in &links {
        assert!(out.join(l).is_file(), "link {l} has no page");
    }
    let v2 = links.iter().find(|l| l.contains("debian12-server/v2")).unwrap();
    let page = chromium(&["--dump-dom"], &url(&out.join(v2)));
    assert!(page.contains("upgraded openssh-server 1:9.2p1-2+deb12u6 -&gt; 1:9.2p1-2+deb12u7") && page.contains("kernel added: 6.1.0-50-amd64"), "{page}");
    assert!(!page.contains("<b>odd</b>") && page.contains("added &lt;b&gt;odd&lt;/b&gt; 1"), "text is escaped:\n{page}");

    // a screenshot, kept for a person to look at
    let shot_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-screenshot");
    std::fs::create_dir_all(&shot_dir).unwrap();
    let shot = shot_dir.join("index.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1280,480", "--hide-scrollbars"], &url(&out.join("index.html")));
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
    assert_eq!((w, h), (1280, 480));
    assert!(png.len() > 10_000, "a page with content, not a blank image ({} bytes)", png.len());
    eprintln!("screenshot: {}", shot.display());
}
