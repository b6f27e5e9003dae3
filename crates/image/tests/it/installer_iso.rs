//! The ISO installer path with the shipped Ubuntu definition (images/ubuntu-22.04-server.yaml and its
//! autoinstall answers), on a stand-in ISO: no Ubuntu ISO is reachable here. The stand-in has Ubuntu's
//! layout (casper/vmlinuz, casper/initrd); its kernel is this machine's Debian kernel and its initrd a
//! small /init (fixtures/ubuntu-standin/init) that fetches the NoCloud seed like cloud-init, copies a
//! payload disk image like curtin, runs the user-data's late-commands and powers off.
//! Real: the ISO's sha256 check (and refusal of a wrong one), kernel/initrd extraction with xorriso,
//! the definition's command line and answer files rendered and served by mdxconf's HTTP server, EFI
//! boots, the end of the installer stage on power-off, and then the rest of `image build` on the
//! installed disk (boot from its own bootloader, SSH with the build key the late-commands installed,
//! build-id check, generalize, qcow2 output). Not real: subiquity; the installed system is Debian.
use crate::common;
use mdxconf_image::image::definition::{Definition, IsoRef, Source};
use mdxconf_image::image::installer;
use mdxconf_image::progress::BuildLog;
use mdxconf_image::qemu::accel;
use mdxconf_image::{build, BuildOptions, OnError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules the stand-in needs: virtio disk and network, the CD-ROM (IDE on `pc`, AHCI on `q35`), iso9660, ext4.
const MODULES: &[&str] = &["virtio_pci", "virtio_blk", "virtio_net", "ata_piix", "ahci", "sr_mod", "isofs", "ext4"];
const BLOCK: u64 = 64 * 1024;

fn sh(cmd: &str, dir: &Path) -> String {
    let out = Command::new("sh").arg("-ec").arg(cmd).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The newest kernel in /boot whose modules are installed (package linux-image-amd64).
fn host_kernel() -> (PathBuf, String) {
    let mut found: Vec<String> = std::fs::read_dir("/boot")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("vmlinuz-").map(String::from))
        .filter(|v| Path::new(&format!("/lib/modules/{v}/modules.dep")).exists())
        .collect();
    found.sort_by_key(|v| v.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).collect::<Vec<_>>());
    let v = found.pop().expect("a kernel in /boot with its modules (install linux-image-amd64)");
    (PathBuf::from(format!("/boot/vmlinuz-{v}")), v)
}

/// busybox-static, the modules (in `modprobe --show-depends` order) and the stand-in /init, as a gzip'd cpio.
fn standin_initrd(dir: &Path, kver: &str) -> PathBuf {
    let root = dir.join("initrd-root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("lib/modules")).unwrap();
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static installed");
    let mut order: Vec<String> = vec![];
    for m in MODULES {
        for line in sh(&format!("modprobe -S {kver} --show-depends {m}"), dir).lines() {
            let Some(path) = line.strip_prefix("insmod ").map(str::trim) else { continue }; // "builtin ..."
            let rel = path.strip_prefix(&format!("/lib/modules/{kver}/")).expect("module under /lib/modules").to_string();
            if !order.contains(&rel) {
                let dest = root.join("lib/modules").join(&rel);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::copy(path, dest).unwrap();
                order.push(rel);
            }
        }
    }
    std::fs::write(root.join("lib/modules/load-order"), order.join("\n") + "\n").unwrap();
    std::fs::copy(common::fixtures().join("ubuntu-standin/init"), root.join("init")).unwrap();
    sh("chmod 0755 init bin/busybox && find . | cpio -o -H newc --quiet | gzip -1 > ../standin-initrd", &root);
    dir.join("standin-initrd")
}

/// The data extents of `image` (qemu-img map of its raw form; 64 KiB aligned, gaps under 4 MiB
/// merged) as casper/payload.bin, and their places as casper/payload.map (see the stand-in /init).
fn write_payload(image: &Path, casper: &Path, work: &Path) {
    let raw = work.join("payload.raw");
    assert!(Command::new("qemu-img").args(["convert", "-O", "raw"]).arg(image).arg(&raw).status().unwrap().success());
    let map = sh(&format!("qemu-img map --output=json -f raw {}", raw.display()), work);
    let map: Vec<serde_json::Value> = serde_json::from_str(&map).unwrap();
    let mut extents: Vec<(u64, u64)> = vec![];
    for e in map.iter().filter(|e| e["data"].as_bool() == Some(true)) {
        let (s, l) = (e["start"].as_u64().unwrap(), e["length"].as_u64().unwrap());
        let (s, end) = (s / BLOCK * BLOCK, (s + l).div_ceil(BLOCK) * BLOCK);
        match extents.last_mut() {
            Some(last) if s <= last.1 + 4 * 1024 * 1024 => last.1 = last.1.max(end),
            _ => extents.push((s, end)),
        }
    }
    let mut src = std::fs::File::open(&raw).unwrap();
    let mut bin = std::io::BufWriter::new(std::fs::File::create(casper.join("payload.bin")).unwrap());
    let mut lines = String::new();
    let mut at = 0u64;
    for (s, end) in extents {
        src.seek(SeekFrom::Start(s)).unwrap();
        let n = std::io::copy(&mut (&mut src).take(end - s), &mut bin).unwrap();
        assert_eq!(n, end - s, "short read from {}", raw.display());
        lines.push_str(&format!("{} {} {}\n", s / BLOCK, n / BLOCK, at / BLOCK));
        at += n;
    }
    bin.flush().unwrap();
    std::fs::write(casper.join("payload.map"), lines).unwrap();
    std::fs::remove_file(&raw).unwrap();
}

/// The stand-in ISO in `dir`, optionally carrying `payload` (a disk image to install).
fn standin_iso(dir: &Path, payload: Option<&Path>) -> PathBuf {
    let casper = dir.join("iso-tree/casper");
    std::fs::create_dir_all(&casper).unwrap();
    let (kernel, kver) = host_kernel();
    std::fs::copy(&kernel, casper.join("vmlinuz")).unwrap();
    std::fs::rename(standin_initrd(dir, &kver), casper.join("initrd")).unwrap();
    if let Some(image) = payload {
        write_payload(image, &casper, dir);
    }
    sh("xorriso -as mkisofs -quiet -V 'Ubuntu-Server standin amd64' -J -R -o standin.iso iso-tree", dir);
    std::fs::remove_dir_all(dir.join("iso-tree")).unwrap();
    dir.join("standin.iso")
}

/// The user-data as the guest printed it between the stand-in's markers.
fn console_user_data(serial: &str) -> Option<String> {
    let s = serial.split("STANDIN: user-data begin").nth(1)?.split("STANDIN: user-data end").next()?;
    Some(s.replace('\r', ""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ubuntu_definition_boots_its_iso_kernel_and_serves_autoinstall_answers() {
    let _vm = common::VM_LOCK.lock().await;
    let work = tempfile::tempdir().unwrap();
    let iso = standin_iso(work.path(), None);
    let iso_sha = mdxconf_image::util::sha256_file(&iso).unwrap();
    let log = BuildLog::create(&work.path().join("build.log"), true).unwrap();

    let mut def = Definition::load(&common::repo().join("images/ubuntu-22.04-server.yaml")).unwrap();
    def.memory = 1024;
    def.cpus = 1;
    let Some(Source::Installer(mut src)) = def.source.clone() else { panic!("installer source expected") };
    let shipped = src.iso.clone().expect("the definition names its ISO");
    src.timeout = 900; // the stand-in takes about a minute under TCG; the definition allows 2 h
    src.seed_iso = true; // the answers also as a `cidata` CD-ROM (the shipped definitions serve HTTP only)

    // A wrong checksum is refused, naming both sums, and leaves nothing in the cache.
    let cache_iso = work.path().join("cache/iso").join(format!("{iso_sha}.iso"));
    src.iso = Some(IsoRef { url: iso.display().to_string(), sha256: shipped.sha256.clone() });
    let err = installer::prepare(&def, &src, work.path(), Some(cache_iso.clone()), "ssh-ed25519 AAAAtest test", "build-1", &log).await.err().expect("wrong sha256 must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("checksum mismatch") && msg.contains(&shipped.sha256) && msg.contains(&iso_sha), "{msg}");
    assert!(!cache_iso.exists() && !cache_iso.with_extension("part").exists());
    assert!(iso.exists(), "a refused ISO's original is left alone");

    // The right one (as a file:// URL, sha256 in capitals) is copied into the cache and booted.
    src.iso = Some(IsoRef { url: format!("file://{}", iso.display()), sha256: iso_sha.to_uppercase() });
    let pubkey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandinKeyForTheInstallerTest build@mdxconf";
    let boot = installer::prepare(&def, &src, work.path(), Some(cache_iso.clone()), pubkey, "build-7f3a", &log).await.expect("prepare");
    assert_eq!(mdxconf_image::util::sha256_file(&cache_iso).unwrap(), iso_sha);
    // same file system: linked, not copied
    use std::os::unix::fs::MetadataExt;
    assert_eq!(std::fs::metadata(&cache_iso).unwrap().ino(), std::fs::metadata(&iso).unwrap().ino(), "the local ISO is hard-linked into the cache");
    assert_eq!(boot.cdrom.as_deref(), Some(cache_iso.as_path()), "the ISO is attached as a CD-ROM");
    let seed = format!("ds=nocloud-net;s=http://10.0.2.2:{}/", boot.http.port);
    assert!(boot.append.starts_with("autoinstall ") && boot.append.contains(&seed), "{}", boot.append);
    assert_eq!(std::fs::read(&boot.kernel).unwrap(), std::fs::read(host_kernel().0).unwrap(), "kernel extracted from the ISO");

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
        assert!(
            boot.http.was_fetched(&format!("/{f}")),
            "{f} not served; requests: {:?}",
            boot.http.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect::<Vec<_>>()
        );
    }
    // What arrived is the definition's user-data with the build's values rendered in.
    let got = console_user_data(&serial).unwrap_or_else(|| panic!("no user-data on the console:\n{}", tail()));
    assert!(got.trim_start().starts_with("#cloud-config"), "{got}");
    assert!(got.contains("autoinstall:") && got.contains("hostname: ubuntu-22.04-server"), "{got}");
    assert!(got.contains(pubkey) && got.contains("echo 'build-7f3a' > /target/etc/mdxconf-build-id"), "{got}");
    assert!(!got.contains("{{"), "unrendered template left in the user-data:\n{got}");
    assert!(serial.contains("STANDIN: powering off") && !serial.contains("STANDIN: FAILED"), "{}", tail());
    let http_log = std::fs::read_to_string(work.path().join("http.log")).unwrap();
    assert!(http_log.lines().any(|l| l.starts_with("GET /user-data") && l.ends_with(" 200")), "{http_log}");
    // this ISO carries no payload; the stand-in must still have found it on the CD-ROM
    assert!(serial.contains("STANDIN: no payload on the CD-ROM"), "{}", tail());
    assert!(serial.contains("STANDIN: seed ISO cidata: authorized_keys mdxconf-build-id meta-data user-data"), "{}", tail());
    assert!(serial.contains("STANDIN: seed ISO user-data is the served user-data"), "{}", tail());
    eprintln!("installer stage passed; guest console:\n{}", serial.lines().filter(|l| l.contains("STANDIN:") && !l.contains("user-data")).collect::<Vec<_>>().join("\n"));
}

/// The shipped definition with the stand-in ISO and test-sized settings; each replaced line must
/// still be in the shipped file.
fn test_definition(dir: &Path, iso: &Path, sha: &str) -> PathBuf {
    let shipped = common::repo().join("images/ubuntu-22.04-server.yaml");
    let mut text = std::fs::read_to_string(&shipped).unwrap();
    let url_line = text.lines().find(|l| l.trim_start().starts_with("url: https://releases.ubuntu.com/")).expect("url line").to_string();
    let sha_line = text.lines().find(|l| l.trim_start().starts_with("sha256: ")).expect("sha256 line").to_string();
    for (from, to) in [
        (url_line.as_str(), format!("      url: file://{}", iso.display())),
        (sha_line.as_str(), format!("      sha256: {sha}")),
        ("    timeout: 7200", "    timeout: 1200".into()),
        // the payload is a 4 GiB disk image; subiquity would partition whatever disk it gets
        ("disk_size: 40G", "disk_size: 4G".into()),
        ("memory: 4096", "memory: 1024\nssh_timeout: 480".into()),
        // the installed system is Debian minbase: the common role's Ubuntu packages are not the point here
        ("roles:\n  - common\n", "roles: []\n".into()),
        ("outputs: [qcow2, ova, openstack]", "outputs: [qcow2]".into()),
    ] {
        assert!(text.contains(from), "{} no longer has {from:?}", shipped.display());
        text = text.replace(from, &to);
    }
    let def_dir = dir.join("def");
    std::fs::create_dir_all(def_dir.join("ubuntu")).unwrap();
    for f in ["user-data", "meta-data"] {
        std::fs::copy(common::repo().join("images/ubuntu").join(f), def_dir.join("ubuntu").join(f)).unwrap();
    }
    let p = def_dir.join("ubuntu-22.04-server.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ubuntu_definition_builds_end_to_end_through_a_standin_installer() {
    let _vm = common::VM_LOCK.lock().await;
    let work = tempfile::tempdir_in("/var/tmp").unwrap();
    // the system the stand-in installs: the EFI Debian test image (tests/build_efi.rs; cached)
    let efi_opts = BuildOptions { cache_dir: Some(common::cache_dir()), quiet: true, output_dir: Some(work.path().join("efi-out")), ..Default::default() };
    let efi = build(&common::fixtures().join("debian12-efi.yaml"), &efi_opts).await.expect("EFI test image");
    // only the cached disk is used; its qcow2 output would be one more copy on the CI machine's disk
    std::fs::remove_dir_all(work.path().join("efi-out")).unwrap();
    let iso = standin_iso(work.path(), Some(&efi.entry.image()));
    let sha = mdxconf_image::util::sha256_file(&iso).unwrap();
    let def = test_definition(work.path(), &iso, &sha);

    // kept on error so the installer's console can be shown; the kept build VM is killed below
    let opts = BuildOptions { cache_dir: Some(work.path().join("cache")), quiet: true, output_dir: Some(work.path().join("out")), on_error: OnError::Keep, ..Default::default() };
    let started = std::time::Instant::now();
    let r = match build(&def, &opts).await {
        Ok(r) => r,
        Err(e) => {
            for pid in common::qemu_pids_with(&work.path().display().to_string()) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            let consoles = sh("find cache -name installer.serial.log -exec grep -a STANDIN {} + || true", work.path());
            panic!("build through the stand-in installer failed: {e:#}\n--- stand-in installer console ---\n{consoles}");
        }
    };
    let console = std::fs::read_to_string(r.entry.dir.join("installer.serial.log")).expect("installer console log kept in the cache entry");
    eprintln!("built through the stand-in installer in {:?}: {:?}", started.elapsed(), r.record.durations);

    // the installer stage ran: answers fetched, payload installed, late-commands run
    let reqs = r.record.inputs["installer_http_requests"].as_array().cloned().unwrap_or_default();
    for f in ["GET /meta-data 200", "GET /user-data 200"] {
        assert!(reqs.iter().any(|q| q.as_str() == Some(f)), "{f} missing from {reqs:?}");
    }
    assert!(console.contains("STANDIN: installed") && !console.contains("STANDIN: FAILED"), "{console}");
    let build_id = r.record.inputs["build_id"].as_str().expect("build id recorded");
    assert!(console.contains(&format!("STANDIN: late-command: echo '{build_id}' > /target/etc/mdxconf-build-id")), "{console}");
    let stages: Vec<&str> = r.record.durations.iter().map(|(s, _)| s.as_str()).collect();
    for s in ["installer", "boot and wait for SSH", "generalize"] {
        assert!(stages.iter().any(|x| x.starts_with(s)), "no stage {s:?} in {stages:?}");
    }
    // the installed disk booted by its own bootloader and answered with the build key and build id
    assert_eq!(r.record.inputs["firmware"], "efi");
    assert!(!r.record.running_kernel.is_empty());
    assert_eq!(r.outputs.len(), 1, "{:?}", r.outputs);
    let info = sh(&format!("qemu-img info --output=json {}", r.outputs[0].display()), work.path());
    assert!(info.contains("\"format\": \"qcow2\"") && !info.contains("backing-filename"), "standalone qcow2 output: {info}");
}
