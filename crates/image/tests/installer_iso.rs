//! The ISO side of the installer source, with the shipped Ubuntu definition
//! (images/ubuntu-22.04-server.yaml) pointed at a stand-in ISO laid out like Ubuntu's live-server ISO.
//! No Ubuntu ISO is reachable here, so the ISO holds Debian's netboot kernel as casper/vmlinuz and its
//! initrd plus a small /init (fixtures/ubuntu-standin/init) as casper/initrd; that /init fetches
//! `meta-data` and `user-data` from the `ds=nocloud-net;s=URL/` seed like cloud-init's NoCloud, prints
//! them to the serial console and powers off. What is real: the ISO's sha256 check (and the refusal
//! of a wrong one), kernel/initrd extraction with xorriso, the definition's command line and answer
//! files rendered and served by mdxconf's HTTP server, the EFI direct boot with the ISO attached, and
//! the installer stage ending when the guest powers off. Subiquity itself is not run.
mod common;
use mdxconf_image::image::definition::{Definition, IsoRef, Source};
use mdxconf_image::image::installer;
use mdxconf_image::progress::BuildLog;
use mdxconf_image::qemu::accel;
use std::path::Path;
use std::process::Command;

const NETBOOT: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

fn sh(cmd: &str, dir: &Path) {
    let out = Command::new("sh").arg("-ec").arg(cmd).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Build the stand-in ISO in `dir` and return its path.
fn standin_iso(dir: &Path) -> std::path::PathBuf {
    let tree = dir.join("iso-tree/casper");
    let overlay = dir.join("overlay");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::copy(Path::new(NETBOOT).join("linux"), tree.join("vmlinuz")).expect("debian-installer-12-netboot-amd64 installed");
    std::fs::copy(common::fixtures().join("ubuntu-standin/init"), overlay.join("init")).unwrap();
    // a second cpio member appended to the initrd: the kernel unpacks both, ours replaces /init
    sh("chmod 0755 init && echo init | cpio -o -H newc --quiet | gzip -1 > ../overlay.cpio.gz", &overlay);
    sh(&format!("cat {NETBOOT}/initrd.gz overlay.cpio.gz > iso-tree/casper/initrd"), dir);
    sh("xorriso -as mkisofs -quiet -V 'Ubuntu-Server standin amd64' -J -R -o standin.iso iso-tree", dir);
    dir.join("standin.iso")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ubuntu_definition_boots_its_iso_kernel_and_serves_autoinstall_answers() {
    let _vm = common::VM_LOCK.lock().await;
    let work = tempfile::tempdir().unwrap();
    let iso = standin_iso(work.path());
    let iso_sha = mdxconf_image::util::sha256_file(&iso).unwrap();
    let log = BuildLog::create(&work.path().join("build.log"), true).unwrap();

    let mut def = Definition::load(&common::repo().join("images/ubuntu-22.04-server.yaml")).unwrap();
    def.memory = 1024;
    def.cpus = 1;
    let Some(Source::Installer(mut src)) = def.source.clone() else { panic!("installer source expected") };
    let shipped = src.iso.clone().expect("the definition names its ISO");
    src.timeout = 900; // the stand-in takes about a minute under TCG; the definition allows 2 h
    assert_eq!(shipped.sha256.len(), 64);

    // A wrong checksum is refused, naming both sums, and leaves nothing in the cache.
    let cache_iso = work.path().join("cache/iso").join(format!("{iso_sha}.iso"));
    src.iso = Some(IsoRef { url: iso.display().to_string(), sha256: shipped.sha256.clone() });
    let err = installer::prepare(&def, &src, work.path(), Some(cache_iso.clone()), "ssh-ed25519 AAAAtest test", "build-1", &log).await.err().expect("wrong sha256 must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("checksum mismatch") && msg.contains(&shipped.sha256) && msg.contains(&iso_sha), "{msg}");
    assert!(!cache_iso.exists() && !cache_iso.with_extension("part").exists());

    // The right one (as a file:// URL) is copied into the cache and the installer boots from it.
    src.iso = Some(IsoRef { url: format!("file://{}", iso.display()), sha256: iso_sha.to_uppercase() });
    let pubkey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandinKeyForTheInstallerTest build@mdxconf";
    let boot = installer::prepare(&def, &src, work.path(), Some(cache_iso.clone()), pubkey, "build-7f3a", &log).await.expect("prepare");
    assert_eq!(mdxconf_image::util::sha256_file(&cache_iso).unwrap(), iso_sha);
    assert_eq!(boot.cdrom.as_deref(), Some(cache_iso.as_path()), "the ISO is attached as a CD-ROM");
    let seed = format!("ds=nocloud-net;s=http://10.0.2.2:{}/", boot.http.port);
    assert!(boot.append.starts_with("autoinstall ") && boot.append.contains(&seed), "{}", boot.append);
    assert_eq!(std::fs::read(&boot.kernel).unwrap(), std::fs::read(Path::new(NETBOOT).join("linux")).unwrap(), "kernel extracted from the ISO");

    let disk = work.path().join("disk.qcow2");
    assert!(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&disk).arg("4G").status().unwrap().success());
    let probe = accel::detect().await;
    let vm = installer::run(&def, &boot, &disk, work.path(), probe.accel, &src, &log).await.expect("the installer stage ends with the guest powering off");
    let serial = std::fs::read_to_string(vm.spec.serial_path()).unwrap();
    let tail = || mdxconf_image::qemu::serial::tail(&vm.spec.serial_path(), 40);

    // The guest saw the command line mdxconf rendered and fetched both answer files.
    assert!(serial.contains("STANDIN: autoinstall requested"), "{}", tail());
    assert!(serial.contains(&format!("STANDIN: seed: http://10.0.2.2:{}/", boot.http.port)), "{}", tail());
    for f in ["meta-data", "user-data"] {
        assert!(boot.http.was_fetched(&format!("/{f}")), "{f} not served; requests: {:?}", boot.http.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect::<Vec<_>>());
    }
    // What arrived is the definition's user-data with the build's values rendered in.
    let got = serial.split("STANDIN: user-data begin").nth(1).and_then(|s| s.split("STANDIN: user-data end").next()).unwrap_or_else(|| panic!("no user-data on the console:\n{}", tail()));
    let got = got.replace('\r', "");
    assert!(got.trim_start().starts_with("#cloud-config"), "{got}");
    assert!(got.contains("autoinstall:") && got.contains("hostname: ubuntu-22.04-server"), "{got}");
    assert!(got.contains(pubkey) && got.contains("echo 'build-7f3a' > /target/etc/mdxconf-build-id"), "{got}");
    assert!(!got.contains("{{"), "unrendered template left in the user-data:\n{got}");
    assert!(serial.contains("STANDIN: powering off"), "{}", tail());
    let http_log = std::fs::read_to_string(work.path().join("http.log")).unwrap();
    assert!(http_log.lines().any(|l| l.starts_with("GET /user-data") && l.ends_with(" 200")), "{http_log}");
    eprintln!("installer stage passed; guest console:\n{}", serial.lines().filter(|l| l.contains("STANDIN:")).collect::<Vec<_>>().join("\n"));
}
