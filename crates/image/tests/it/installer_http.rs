//! The installer path with the real Debian netboot installer (package debian-installer-12-netboot-amd64):
//! booted with -kernel/-initrd and `auto=true priority=critical url=http://10.0.2.2:PORT/preseed.cfg`,
//! it must fetch the preseed from mdxconf's HTTP server. Stopped right after (a full install takes long
//! under TCG).
use crate::common;
use mdxconf_image::image::definition::{Definition, Source};
use mdxconf_image::image::installer;
use mdxconf_image::progress::BuildLog;
use mdxconf_image::qemu::accel;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian_netboot_installer_fetches_preseed_from_our_http_server() {
    let def = Definition::load(&common::repo().join("images/debian12-netinst.yaml")).unwrap();
    let Some(Source::Installer(src)) = &def.source else { panic!("installer source expected") };
    let work = tempfile::tempdir().unwrap();
    let log = BuildLog::create(&work.path().join("build.log"), true).unwrap();
    let boot = installer::prepare(&def, src, work.path(), None, "ssh-ed25519 AAAAtest test", "test-build-id", &log).await.expect("prepare");
    assert!(boot.append.contains(&format!("url=http://10.0.2.2:{}/preseed.cfg", boot.http.port)), "{}", boot.append);
    let disk = work.path().join("disk.qcow2");
    assert!(std::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&disk).arg("4G").status().unwrap().success());
    let probe = accel::detect().await;
    let mut vm = installer::start_vm(&def, &boot, &disk, work.path(), probe.accel).await.expect("installer VM");
    let pid = vm.pid();
    let start = Instant::now();
    while !boot.http.was_fetched("/preseed.cfg") {
        if let Some(e) = vm.exited() {
            panic!("installer VM died: {e}");
        }
        assert!(start.elapsed() < Duration::from_secs(600), "no preseed fetch within 600s; serial:\n{}", mdxconf_image::qemu::serial::tail(&vm.spec.serial_path(), 30));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    eprintln!("preseed fetched after {:.0}s", start.elapsed().as_secs_f64());
    vm.kill().await;
    assert!(!mdxconf_image::proc::pid_is_qemu(pid));
    // the request log file shows the fetch, and the served preseed had our URL rendered into it
    let http_log = std::fs::read_to_string(work.path().join("http.log")).unwrap();
    assert!(http_log.lines().any(|l| l.starts_with("GET /preseed.cfg") && l.ends_with(" 200")), "{http_log}");
    let serial = std::fs::read_to_string(vm.spec.serial_path()).unwrap_or_default();
    assert!(!serial.is_empty(), "serial console captured");
}
