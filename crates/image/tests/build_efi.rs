//! EFI for rootfs-built images, real everything: mmdebstrap, a GPT disk with an ESP, grub-efi-amd64
//! installed from inside the first boot (OVMF, direct kernel boot), generalized; then the image booted
//! once by OVMF alone (no -kernel: GRUB from the ESP's removable path) through `lab up`, checked over SSH.
mod common;
use mdxconf_image::guest::Guest;
use mdxconf_image::{build, BuildOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian12_efi_rootfs_builds_and_boots_with_ovmf() {
    let _l = common::VM_LOCK.lock().await;
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions { cache_dir: Some(common::cache_dir()), quiet: true, output_dir: Some(out.path().to_path_buf()), ..Default::default() };
    let r = build(&common::fixtures().join("debian12-efi.yaml"), &opts).await.expect("EFI build");
    assert_eq!(r.record.inputs["firmware"], "efi");
    assert!(r.record.packages.contains_key("grub-efi-amd64") && !r.record.packages.contains_key("grub-pc"), "EFI GRUB installed, not grub-pc");
    assert!(r.record.durations.iter().any(|(s, _)| s == "install bootloader (GRUB, EFI)"), "{:?}", r.record.durations);

    let lab_dir = tempfile::tempdir().unwrap();
    let up = mdxconf_image::lab::UpOptions {
        count: 1,
        image: r.entry.image().display().to_string(),
        memory: 512,
        cpus: 1,
        dir: lab_dir.path().to_path_buf(),
        cache_dir: Some(common::cache_dir()),
        ssh_timeout: Duration::from_secs(900),
        quiet: true,
    };
    let state = mdxconf_image::lab::up(&up).await.expect("lab up: the EFI image boots by itself under OVMF");
    let v = &state.vms[0];
    let checks = async {
        let g = Guest::new(v.ssh_port, "root", state.key.clone(), state.known_hosts.clone());
        let out = g.run("test -d /sys/firmware/efi && echo efi-booted; findmnt -n -o FSTYPE /boot/efi; test -s /boot/efi/EFI/BOOT/BOOTX64.EFI && echo removable-path; cat /proc/cmdline").await?;
        g.close().await;
        anyhow::ensure!(out.contains("efi-booted"), "booted by UEFI firmware: {out}");
        anyhow::ensure!(out.lines().any(|l| l.trim() == "vfat"), "ESP mounted: {out}");
        anyhow::ensure!(out.contains("removable-path"), "GRUB at EFI/BOOT/BOOTX64.EFI: {out}");
        anyhow::ensure!(out.contains("BOOT_IMAGE="), "kernel started by GRUB, not by QEMU -kernel: {out}");
        anyhow::Ok(())
    }
    .await;
    let qemu_cmd = std::fs::read_to_string(format!("/proc/{}/cmdline", v.pid)).unwrap_or_default().replace('\0', " ");
    let down = mdxconf_image::lab::down(lab_dir.path(), Duration::from_secs(90)).await.expect("lab down");
    checks.expect("EFI guest checks");
    assert!(qemu_cmd.contains("OVMF_CODE") && !qemu_cmd.contains("-kernel"), "booted by OVMF from the disk: {qemu_cmd}");
    assert!(!mdxconf_image::lab::pid_is_qemu(v.pid), "{down:?}");
}
