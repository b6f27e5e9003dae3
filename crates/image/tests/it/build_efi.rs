//! EFI for rootfs-built images, real everything: mmdebstrap, a GPT disk with an ESP, grub-efi-amd64
//! installed from inside the first boot (OVMF, direct kernel boot), cloud-init, generalized, exported
//! as an OVA; then the OVA deployed as vSphere would (`image deploy`: its disk read back from the VMDK,
//! on NVMe (OVMF cannot boot pvscsi; see deploy::Deployment::notes), vmxnet3, OVMF alone, no -kernel: GRUB from the ESP's removable path, the vApp options on an
//! ISO), the first-login password set, and the EFI boot checked over SSH as mdxuser.
use crate::common;
use mdxconf_image::deploy::options::{DeployOptions, Metadata};
use mdxconf_image::{build, BuildOptions};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian12_efi_rootfs_builds_and_deploys_on_vsphere_with_ovmf() {
    let _l = common::VM_LOCK.lock().await;
    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions { cache_dir: Some(common::cache_dir()), quiet: true, output_dir: Some(out.path().to_path_buf()), ..Default::default() };
    let r = build(&common::fixtures().join("debian12-efi.yaml"), &opts).await.expect("EFI build");
    assert_eq!(r.record.inputs["firmware"], "efi");
    assert!(r.record.packages.contains_key("grub-efi-amd64") && !r.record.packages.contains_key("grub-pc"), "EFI GRUB installed, not grub-pc");
    assert!(r.record.packages.contains_key("cloud-init"), "cloud-init installed");
    assert!(r.record.durations.iter().any(|(s, _)| s == "install bootloader (GRUB, EFI)"), "{:?}", r.record.durations);
    let ova = out.path().join("debian12-efi-test.ova");
    assert!(ova.exists(), "{:?}", r.outputs);

    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("user_key");
    let pubkey = mdxconf_image::guest::ensure_key(&key, "efi-test").await.unwrap();
    let port = mdxconf_image::qemu::ports::free_tcp_port().unwrap();
    let md = Metadata { instance_id: "efi-test-1".into(), hostname: "efi-test".into(), public_keys: vec![pubkey], user_data: None, password: None, ipv4: None };
    let d = DeployOptions {
        artifact: ova,
        cloud: None,
        dir: dir.path().to_path_buf(),
        name: "efi".into(),
        ssh_addr: "127.0.0.1".into(),
        ssh_port: port.port,
        grow_gib: 1,
        metadata: md,
        cpus: Some(1),
        memory_mib: Some(768),
    };
    let (vm, _) = mdxconf_image::deploy::up(d, None, Duration::from_secs(900)).await.expect("the EFI OVA deploys: OVMF boots GRUB from the disk, cloud-init runs");
    let checks = async {
        let t = mdxconf_portal::passwdinit::Target { name: "efi".into(), address: "127.0.0.1".into(), port: Some(port.port) };
        let po = mdxconf_portal::passwdinit::PasswdInitOptions {
            method: mdxconf_portal::passwdinit::Method::Prompt,
            user: "mdxuser".into(),
            for_user: "mdxuser".into(),
            new_password: "Efi-test-pw-2026!".into(),
            current_password: None,
            timeout: Duration::from_secs(60),
            ssh_args: vec![],
            identity_files: vec![key.clone()],
            known_hosts: Some(dir.path().join("known_hosts")),
            accept_new_host_keys: false,
        };
        tokio::task::spawn_blocking(move || mdxconf_portal::passwdinit::set_by_prompt(&t, &po)).await?.map_err(|e| anyhow::anyhow!("passwdinit: {e}"))?;
        let g = mdxconf_image::guest::Guest::strict("127.0.0.1", port.port, "mdxuser", key.clone(), dir.path().join("known_hosts"));
        let out = g.run("test -d /sys/firmware/efi && echo efi-booted; findmnt -n -o FSTYPE /boot/efi; sudo -n test -s /boot/efi/EFI/BOOT/BOOTX64.EFI && echo removable-path; cat /proc/cmdline; findmnt -no SOURCE /; hostname").await?;
        g.close().await;
        anyhow::ensure!(out.contains("efi-booted"), "booted by UEFI firmware: {out}");
        anyhow::ensure!(out.lines().any(|l| l.trim() == "vfat"), "ESP mounted: {out}");
        anyhow::ensure!(out.contains("removable-path"), "GRUB at EFI/BOOT/BOOTX64.EFI: {out}");
        anyhow::ensure!(out.contains("BOOT_IMAGE="), "kernel started by GRUB, not by QEMU -kernel: {out}");
        // EFI + pvscsi boots on NVMe here: OVMF has no pvscsi driver (Deployment::notes)
        anyhow::ensure!(out.contains("/dev/nvme0n1p2"), "root on the disk's second partition: {out}");
        anyhow::ensure!(out.lines().any(|l| l.trim() == "efi-test"), "hostname from the vApp options: {out}");
        anyhow::Ok(())
    }
    .await;
    let qemu_cmd = std::fs::read_to_string(format!("/proc/{}/cmdline", vm.pid)).unwrap_or_default().replace('\0', " ");
    let down = mdxconf_image::lab::down(dir.path(), Duration::from_secs(90)).await.expect("lab down");
    checks.expect("EFI guest checks");
    assert!(
        qemu_cmd.contains("OVMF_CODE") && !qemu_cmd.contains("-kernel") && qemu_cmd.contains("-device nvme") && qemu_cmd.contains("vmxnet3"),
        "booted by OVMF from the disk: {qemu_cmd}"
    );
    assert!(!mdxconf_image::proc::pid_is_qemu(vm.pid), "{down:?}");
}
