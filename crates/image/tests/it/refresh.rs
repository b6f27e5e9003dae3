//! `image build --refresh` (scheduled rebuilds): an overlay on debian12-server whose `upstream:` is a
//! Release file served here. The base watches Debian's real mirror (its cached build, made after the
//! mirror's last change, is adopted, not rebuilt). The overlay is built, then a cache hit while its
//! package indexes stay the same (even when the file's Date changes), rebuilt when an index changes,
//! and a plain build afterwards reuses the newest refreshed build. An unreachable archive fails before
//! anything is built.
use crate::common;
use mdxconf_image::image::http::HttpServer;
use mdxconf_image::{build, BuildOptions};
use std::collections::BTreeMap;

fn release(date: &str, packages_hash: char) -> Vec<u8> {
    format!(
        "Origin: mdxconf test\nSuite: t\nDate: {date}\nSHA256:\n {} 1234 main/binary-amd64/Packages\n {} 120 main/binary-amd64/Release\n",
        packages_hash.to_string().repeat(64),
        "e".repeat(64)
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rebuilds_only_when_the_package_indexes_change() {
    let _l = common::VM_LOCK.lock().await;
    let srv = HttpServer::start(BTreeMap::from([("dists/t/InRelease".to_string(), release("Mon, 02 Nov 2026 08:00:00 UTC", 'a'))]), None).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let def = dir.path().join("refresh-test.yaml");
    std::fs::write(
        &def,
        format!(
            "name: refresh-test\nbase: {}\ncpus: 2\nmemory: 1024\nroles:\n  - role: mdxconf_image_test\n    vars: {{marker_text: refreshed}}\nupstream:\n  - http://127.0.0.1:{}/dists/t/InRelease\noutputs: [qcow2]\n",
            common::repo().join("images/debian12-server.yaml").display(),
            srv.port
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = |refresh: bool| BuildOptions {
        cache_dir: Some(common::cache_dir()),
        quiet: true,
        output_dir: Some(out.path().to_path_buf()),
        roles_path: vec![common::fixtures().join("roles")],
        refresh,
        ..Default::default()
    };
    // make sure the base is cached (a plain build), so the refresh below adopts it
    let base = build(&common::repo().join("images/debian12-server.yaml"), &opts(false)).await.expect("debian12-server");

    // 1. first refreshed build: the overlay is built, bound to the served indexes
    let first = build(&def, &opts(true)).await.expect("first refreshed build");
    assert!(!first.cached);
    let up = first.record.upstream.clone().expect("refreshed build records its archives");
    assert_eq!(up.urls, vec![format!("http://127.0.0.1:{}/dists/t/InRelease", srv.port)]);
    let base_rec = first.record.base.clone().unwrap();
    assert_eq!(base_rec.cache_key, base.entry.key(), "the base built after the mirror's last change is adopted, not rebuilt");
    let base_now: mdxconf_image::image::record::BuildRecord = serde_json::from_slice(&std::fs::read(base.entry.record()).unwrap()).unwrap();
    let base_up = base_now.upstream.expect("the adopted base now records the mirror's state");
    assert!(base_up.urls[0].ends_with("/dists/bookworm/InRelease"), "{:?}", base_up.urls);
    assert!(srv.was_fetched("/dists/t/InRelease"));

    // 2. same indexes, a newer Date (a new archive run without package changes): cache hit
    srv.set_file("dists/t/InRelease", release("Tue, 03 Nov 2026 08:00:00 UTC", 'a'));
    let second = build(&def, &opts(true)).await.expect("second refreshed build");
    assert!(second.cached, "unchanged package indexes must not rebuild");
    assert_eq!(second.entry.dir, first.entry.dir);

    // 3. a changed Packages index: rebuilt under a new key, which becomes `latest`
    srv.set_file("dists/t/InRelease", release("Wed, 04 Nov 2026 08:00:00 UTC", 'b'));
    let third = build(&def, &opts(true)).await.expect("third refreshed build");
    assert!(!third.cached, "changed package indexes must rebuild");
    assert_ne!(third.entry.key(), first.entry.key());
    assert_ne!(third.record.upstream.as_ref().unwrap().digest, up.digest);
    assert!(third.entry.is_complete() && first.entry.is_complete(), "the older build stays in the cache");

    // 4. a plain build (no --refresh) reuses the newest refreshed build, without fetching
    let fetches = srv.requests().len();
    let plain = build(&def, &opts(false)).await.expect("plain build");
    assert!(plain.cached);
    assert_eq!(plain.entry.dir, third.entry.dir);
    assert_eq!(srv.requests().len(), fetches, "a plain build does not look at the archives");

    // 5. an archive that cannot be fetched: a clear error naming the definition and the URL, nothing built
    let gone = format!("http://127.0.0.1:{}/dists/gone/InRelease", srv.port);
    std::fs::write(&def, std::fs::read_to_string(&def).unwrap().replace("/dists/t/InRelease", "/dists/gone/InRelease")).unwrap();
    let e = build(&def, &opts(true)).await.unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("refresh-test.yaml") && msg.contains(&gone) && msg.contains("404"), "{msg}");
}
