//! The schedule for real, under systemd: on a lab VM (scripts/test-vm-modules.sh boots one and sets
//! MDXCONF_TEST_VM=root@127.0.0.1:PORT and MDXCONF_TEST_VM_KEY), the mdxconf binary installs its
//! units with `image schedule --install`; the timer fires on its calendar and starts the service,
//! which runs the catalogue refresh, the report and prune. The VM cannot build images itself (no
//! nested virtualization, no mmdebstrap), so its refresh fails, which is what this checks is visible:
//! `systemctl status` shows the failed exit status, the journal holds the run's summary, the report
//! was written anyway; and a run started while another holds the lock exits 75 at once.
use mdxconf_image::guest::Guest;
use std::time::Duration;

const UNIT: &str = "mdxconf-catalogue";

fn vm() -> Guest {
    let target = std::env::var("MDXCONF_TEST_VM").expect("MDXCONF_TEST_VM=root@127.0.0.1:PORT (scripts/test-vm-modules.sh sets it)");
    let key = std::env::var("MDXCONF_TEST_VM_KEY").expect("MDXCONF_TEST_VM_KEY");
    let (user, hostport) = target.split_once('@').expect("user@host:port");
    let (_, port) = hostport.rsplit_once(':').expect("host:port");
    let kh = std::env::temp_dir().join(format!("mdxconf-schedule-vm-{}.known_hosts", std::process::id()));
    Guest::new(port.parse().unwrap(), user, key.into(), kh)
}

async fn show(g: &Guest, unit: &str, prop: &str) -> String {
    g.run(&format!("systemctl show {unit} -p {prop} --value")).await.unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a lab VM (scripts/test-vm-modules.sh)"]
async fn the_timer_runs_the_catalogue_refresh_on_a_lab_vm() {
    let g = vm();
    let (svc, tmr) = (&format!("{UNIT}.service"), &format!("{UNIT}.timer"));
    // the binary, without its debug info (26 MB instead of 57)
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("mdxconf-image");
    let st = std::process::Command::new("objcopy").arg("--strip-all").arg(env!("CARGO_BIN_EXE_mdxconf-image")).arg(&bin).status().unwrap();
    assert!(st.success());
    // a clean slate (also after an earlier, interrupted run of this test); the journal from now on
    let since = g
        .run(&format!("pkill -f '[f]lock /srv/mdxconf' ; systemctl disable --now {UNIT}.timer 2>/dev/null; systemctl reset-failed {UNIT}.service 2>/dev/null; rm -rf /srv/mdxconf && mkdir -p /srv/mdxconf/catalogue /srv/mdxconf/cache && date +%s"))
        .await
        .unwrap()
        .trim()
        .to_string();
    g.put("/usr/local/bin/mdxconf-image", &std::fs::read(&bin).unwrap(), 0o755).await.unwrap();
    g.put(
        "/srv/mdxconf/catalogue/vm-template.yaml",
        b"name: vm-template\nsource:\n  rootfs:\n    suite: bookworm\n    mirror: http://deb.debian.org/debian\n    variant: minbase\ndisk_size: 2G\noutputs: [qcow2]\n",
        0o644,
    )
    .await
    .unwrap();
    // every 20 s, on time: the first run comes within the test's patience
    let out = g
        .run("cd /srv/mdxconf && mdxconf-image image schedule catalogue --cache-dir /srv/mdxconf/cache --output-dir /srv/mdxconf/out --on-calendar '*:*:0/20' --randomized-delay 0 --install")
        .await
        .unwrap();
    assert!(out.contains("/etc/systemd/system/mdxconf-catalogue.timer"), "{out}");
    assert_eq!(show(&g, tmr, "ActiveState").await, "active");
    let mut ran = false;
    for _ in 0..90 {
        // a run that ended after this test began (not one left from an earlier run of it)
        let ended = format!("t=$(systemctl show {UNIT}.service -p ExecMainExitTimestamp --value); [ -n \"$t\" ] && [ $(date -d \"$t\" +%s) -ge {since} ] && echo ended || true");
        if g.run(&ended).await.unwrap().contains("ended") && show(&g, svc, "ActiveState").await != "activating" {
            ran = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // no second run while we look
    g.run(&format!("systemctl disable --now {UNIT}.timer")).await.unwrap();
    let journal = g.exec(&format!("journalctl -u {UNIT}.service --since @{since} --no-pager -o cat"), None).await.unwrap().stdout;
    assert!(ran, "the timer did not start the service within 180 s\n{journal}");
    assert_ne!(show(&g, tmr, "LastTriggerUSec").await, "n/a", "started by the timer");
    assert_eq!(show(&g, svc, "Result").await, "exit-code");
    assert_eq!(show(&g, svc, "ExecMainStatus").await, "1", "{journal}");
    let status = g.exec(&format!("systemctl status {UNIT}.service --no-pager"), None).await.unwrap().stdout;
    assert!(status.contains("status=1/FAILURE"), "{status}");
    // the catalogue's own summary is in the journal: the template failed (no mmdebstrap here)
    assert!(journal.contains("vm-template") && journal.contains("1 failed"), "{journal}");
    // report and prune ran after the failed build
    g.run("test -s /srv/mdxconf/out/catalogue/index.html && test -s /srv/mdxconf/out/catalogue/catalogue.json").await.unwrap();
    assert!(journal.contains("templates:"), "the report's line: {journal}");
    // a run while something else holds the lock: exits 75 at once
    g.run("setsid -f flock /srv/mdxconf/cache/catalogue.lock sleep 30 </dev/null >/dev/null 2>&1; sleep 1").await.unwrap();
    let t0 = std::time::Instant::now();
    let r = g.exec(&format!("systemctl start {UNIT}.service"), None).await.unwrap();
    assert_ne!(r.rc, 0);
    assert!(t0.elapsed() < Duration::from_secs(20), "did not wait for the lock");
    assert_eq!(show(&g, svc, "ExecMainStatus").await, "75");
    g.run(&format!("pkill -f '[f]lock /srv/mdxconf' || true; rm -f /etc/systemd/system/{UNIT}.service /etc/systemd/system/{UNIT}.timer; systemctl daemon-reload")).await.unwrap();
    g.close().await;
}
