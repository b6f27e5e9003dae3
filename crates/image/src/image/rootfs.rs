//! rootfs source: mmdebstrap into a directory, a few files written by us, then the directory becomes an
//! ext4 partition of a raw disk without loop devices or mounts (`mkfs.ext4 -d DIR -E offset=...`
//! straight into the partition's byte range of the disk file). The bootloader is installed later from
//! inside the first boot (grub-install on the guest's own /dev/vda), which needs no host privileges.
//! BIOS images: MBR, one ext4 partition, grub-pc. EFI images: GPT with an EFI system partition (FAT32,
//! made with `mkfs.fat --offset`, also without mounts) and the ext4 root; grub-efi-amd64 installed
//! from inside the first boot (booted by OVMF with -kernel) to the removable-media path
//! EFI/BOOT/BOOTX64.EFI, so the disk boots on any UEFI firmware without NVRAM entries (vSphere too).
use super::build_context::Build;
use super::definition::{parse_size, Definition, RootfsSource};
use crate::proc::run_logged;
use crate::progress::BuildLog;
use crate::qemu::Firmware;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Packages every BIOS rootfs image needs to boot and be reached by the build.
pub const REQUIRED_PACKAGES: &[&str] = &["linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "grub-pc", "iproute2", "systemd-resolved"];

/// The packages a rootfs image of `firmware` needs (grub-pc and grub-efi-amd64 conflict).
pub fn required_packages(firmware: Firmware) -> Vec<&'static str> {
    match firmware {
        Firmware::Bios => REQUIRED_PACKAGES.to_vec(),
        Firmware::Efi => REQUIRED_PACKAGES.iter().map(|p| if *p == "grub-pc" { "grub-efi-amd64" } else { *p }).chain(["dosfstools"]).collect(),
    }
}

/// Where the first partition starts (1 MiB, the usual alignment; GRUB's core.img lives before it on BIOS).
pub const PART_OFFSET: u64 = 1 << 20;
/// Size of the EFI system partition (FAT32 with 1-sector clusters: above FAT32's minimum cluster count).
pub const ESP_SIZE: u64 = 128 << 20;

/// Byte ranges of the partitions in the disk file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// (offset, size) of the EFI system partition (EFI images only)
    pub esp: Option<(u64, u64)>,
    pub root_offset: u64,
    pub root_size: u64,
}

impl Layout {
    pub fn for_disk(bytes: u64, firmware: Firmware) -> Result<Layout> {
        let l = match firmware {
            Firmware::Bios => Layout { esp: None, root_offset: PART_OFFSET, root_size: bytes.saturating_sub(PART_OFFSET) },
            // the last MiB stays free for GPT's backup header
            Firmware::Efi => {
                Layout { esp: Some((PART_OFFSET, ESP_SIZE)), root_offset: PART_OFFSET + ESP_SIZE, root_size: bytes.saturating_sub(PART_OFFSET + ESP_SIZE + PART_OFFSET) }
            }
        };
        if l.root_size < 256 << 20 {
            bail!("disk_size {bytes} bytes leaves no room for the root filesystem");
        }
        Ok(l)
    }

    /// sfdisk's script for this layout.
    pub fn sfdisk_script(&self) -> String {
        match self.esp {
            None => format!("label: dos\nstart={}, type=83, bootable\n", self.root_offset / 512),
            Some((off, size)) => format!(
                "label: gpt\nstart={}, size={}, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=ESP\nstart={}, size={}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n",
                off / 512,
                size / 512,
                self.root_offset / 512,
                self.root_size / 512
            ),
        }
    }
}

/// A FAT volume id for the ESP, and how fstab spells it (`XXXX-XXXX`).
fn new_fat_id() -> Result<(String, String)> {
    let hex: String = new_uuid()?.chars().filter(|c| c.is_ascii_hexdigit()).take(8).collect::<String>().to_ascii_uppercase();
    let fstab = format!("{}-{}", &hex[..4], &hex[4..]);
    Ok((hex, fstab))
}

pub struct RootfsDisk {
    /// raw disk image with the partition table and the ext4 root
    pub raw: PathBuf,
    pub root_uuid: String,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

pub const SSH_HOSTKEY_UNIT: &str = "[Unit]
Description=Generate SSH host keys on first boot (removed when the template was generalized)
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service
# cloud-init regenerates the keys on a new instance: never run beside it
After=cloud-init.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
RequiredBy=ssh.service
";

const DHCP_NETWORK: &str = "# mdxconf: DHCP on every wired interface not configured more specifically
[Match]
Name=en* eth*

[Network]
DHCP=yes

[Link]
RequiredForOnline=no
";

fn new_uuid() -> Result<String> {
    Ok(std::fs::read_to_string("/proc/sys/kernel/random/uuid")?.trim().to_string())
}

fn write(root: &Path, rel: &str, content: &str, mode: u32) -> Result<()> {
    let p = root.join(rel.trim_start_matches('/'));
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d)?;
    }
    // never follow a symlink left by a package (e.g. resolv.conf): replace it
    if p.is_symlink() {
        std::fs::remove_file(&p)?;
    }
    crate::util::write_atomic(&p, content.as_ref())?;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn set_kv(text: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with(&format!("{key}=")) {
                found = true;
                format!("{key}={value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        out.push(format!("{key}={value}"));
    }
    out.join("\n") + "\n"
}

/// Every package mmdebstrap installs for `def`: what booting needs, the definition's own, and (with
/// `cloud_init:`) cloud-init and the guest agents, installed here rather than by the role inside the
/// emulated guest.
pub fn packages(def: &Definition, src: &RootfsSource) -> Vec<String> {
    let mut pkgs: Vec<String> = required_packages(def.firmware).iter().map(|s| s.to_string()).collect();
    let cloud = def.cloud_init.as_ref().map(|_| super::cloud_init::ROOTFS_PACKAGES).unwrap_or_default();
    for p in src.packages.iter().map(String::as_str).chain(cloud.iter().copied()) {
        if !pkgs.iter().any(|q| q == p) {
            pkgs.push(p.to_string());
        }
    }
    pkgs
}

/// Run mmdebstrap for `src` into `dir`.
/// `proxy`: the run's package cache port on 127.0.0.1 (its setting is removed from the tree again).
pub async fn debootstrap(src: &RootfsSource, pkgs: &[String], firmware: Firmware, dir: &Path, proxy: Option<u16>, log: &BuildLog) -> Result<()> {
    let mut cmd = Command::new("mmdebstrap");
    cmd.arg(format!("--variant={}", src.variant)).arg(format!("--include={}", pkgs.join(",")));
    if !src.components.is_empty() {
        cmd.arg(format!("--components={}", src.components.join(",")));
    }
    cmd.args(["--aptopt=Acquire::Retries \"3\"", "--mode=root"]);
    if let Some(port) = proxy {
        // only http:// archives go through it (apt never sends https to an http proxy); mmdebstrap
        // keeps its --aptopt lines in the tree, so the proxy line is taken out again at the end
        cmd.arg(format!("--aptopt=Acquire::http::Proxy \"http://127.0.0.1:{port}\""));
        cmd.arg("--customize-hook=sed -i '/Acquire::http::Proxy/d' \"$1/etc/apt/apt.conf.d/99mmdebstrap\"");
    }
    if src.install_recommends {
        cmd.arg("--aptopt=APT::Install-Recommends \"true\"");
    }
    // keep grub-pc's postinst from asking or failing about install devices: we install GRUB ourselves
    match firmware {
        Firmware::Bios => cmd.arg("--essential-hook=echo 'grub-pc grub-pc/install_devices_empty boolean true' | chroot \"$1\" debconf-set-selections || true"),
        // later grub-efi upgrades keep updating the removable path we boot from, and never touch NVRAM
        Firmware::Efi => cmd.arg("--essential-hook=printf 'grub-efi-amd64 grub2/force_efi_extra_removable boolean true\\ngrub-efi-amd64 grub2/update_nvram boolean false\\n' | chroot \"$1\" debconf-set-selections || true"),
    };
    cmd.arg(&src.suite).arg(dir).arg(&src.mirror);
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    run_logged(&mut cmd, log.path()).await.context("mmdebstrap failed (is the Debian mirror reachable?)")
}

/// Write what the build and the first boot need into the tree.
/// `esp_id`: the ESP's volume id as fstab spells it (EFI images).
pub fn customize(def: &Definition, dir: &Path, root_uuid: &str, esp_id: Option<&str>, build_pubkey: &str, build_id: &str) -> Result<()> {
    let host = def.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect::<String>();
    write(dir, "/etc/hostname", &format!("{host}\n"), 0o644)?;
    write(dir, "/etc/hosts", &format!("127.0.0.1\tlocalhost\n127.0.1.1\t{host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"), 0o644)?;
    let mut fstab = format!("UUID={root_uuid}\t/\text4\terrors=remount-ro\t0\t1\n");
    if let Some(id) = esp_id {
        fstab.push_str(&format!("UUID={id}\t/boot/efi\tvfat\tumask=0077\t0\t1\n"));
        std::fs::create_dir_all(dir.join("boot/efi"))?;
    }
    write(dir, "/etc/fstab", &fstab, 0o644)?;
    write(dir, "/etc/systemd/network/80-mdxconf-dhcp.network", DHCP_NETWORK, 0o644)?;
    write(dir, "/etc/systemd/system/mdxconf-ssh-hostkeys.service", SSH_HOSTKEY_UNIT, 0o644)?;
    std::fs::create_dir_all(dir.join("root/.ssh"))?;
    std::fs::set_permissions(dir.join("root/.ssh"), std::fs::Permissions::from_mode(0o700))?;
    write(dir, "/root/.ssh/authorized_keys", &format!("{build_pubkey}\n"), 0o600)?;
    write(dir, "/etc/mdxconf-build-id", &format!("{build_id}\n"), 0o644)?;
    // enable units by symlink (what `systemctl enable` does), no chroot needed
    let links = [
        ("etc/systemd/system/multi-user.target.wants/systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service"),
        ("etc/systemd/system/multi-user.target.wants/mdxconf-ssh-hostkeys.service", "/etc/systemd/system/mdxconf-ssh-hostkeys.service"),
        ("etc/systemd/system/ssh.service.requires/mdxconf-ssh-hostkeys.service", "/etc/systemd/system/mdxconf-ssh-hostkeys.service"),
    ];
    for (link, target) in links {
        let p = dir.join(link);
        std::fs::create_dir_all(p.parent().unwrap())?;
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(target, &p)?;
    }
    // serial console and a short menu: works on QEMU and on vSphere (serial is simply absent there)
    let grub_path = dir.join("etc/default/grub");
    let grub = std::fs::read_to_string(&grub_path).unwrap_or_default();
    let grub = set_kv(&grub, "GRUB_TIMEOUT", "1");
    let grub = set_kv(&grub, "GRUB_CMDLINE_LINUX_DEFAULT", "\"console=tty0 console=ttyS0,115200n8\"");
    let grub = set_kv(&grub, "GRUB_TERMINAL", "\"console serial\"");
    crate::util::write_atomic(&grub_path, grub.as_bytes())?;
    Ok(())
}

/// The kernel and initrd the rootfs installed (following /vmlinuz, /initrd.img).
pub fn find_kernel(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let boot = dir.join("boot");
    let mut kernels: Vec<String> = std::fs::read_dir(&boot)?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("vmlinuz-")).collect();
    kernels.sort();
    let Some(k) = kernels.pop() else { bail!("no kernel in {} (is linux-image-amd64 in the package list?)", boot.display()) };
    let ver = k.trim_start_matches("vmlinuz-");
    let initrd = boot.join(format!("initrd.img-{ver}"));
    if !initrd.exists() {
        bail!("kernel {k} has no initrd ({})", initrd.display());
    }
    Ok((boot.join(&k), initrd))
}

/// Turn the tree into a raw disk: BIOS: MBR with one bootable Linux partition at 1 MiB holding ext4;
/// EFI: GPT with the ESP (empty FAT32, volume id `esp_hex`) and the ext4 root.
pub async fn make_disk(dir: &Path, raw: &Path, size: &str, firmware: Firmware, root_uuid: &str, esp_hex: Option<&str>, log: &BuildLog) -> Result<()> {
    let bytes = parse_size(size).context("bad disk_size")?;
    let layout = Layout::for_disk(bytes, firmware)?;
    let f = std::fs::File::create(raw)?;
    f.set_len(bytes)?;
    drop(f);
    let mut sf = Command::new("sfdisk");
    sf.args(["--quiet", "--no-reread", "--no-tell-kernel"]).arg(raw);
    sf.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
    let mut child = sf.spawn().context("running sfdisk (package fdisk)")?;
    {
        use tokio::io::AsyncWriteExt;
        let mut si = child.stdin.take().unwrap();
        si.write_all(layout.sfdisk_script().as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!("sfdisk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    if let Some((off, size)) = layout.esp {
        let mut fat = Command::new("mkfs.fat");
        fat.args(["-F", "32", "-s", "1", "-n", "ESP", "-i", esp_hex.context("EFI layout needs an ESP volume id")?]);
        fat.arg(format!("--offset={}", off / 512)).arg(raw).arg((size / 1024).to_string());
        run_logged(&mut fat, log.path()).await.context("mkfs.fat --offset (dosfstools >= 4.0 needed)")?;
    }
    let part_kib = layout.root_size / 1024;
    let mut mk = Command::new("mkfs.ext4");
    mk.args(["-F", "-q", "-L", "root", "-U", root_uuid, "-d"]).arg(dir);
    mk.arg("-E").arg(format!("offset={}", layout.root_offset)).arg(raw).arg(format!("{part_kib}k"));
    run_logged(&mut mk, log.path()).await.context("mkfs.ext4 -d (e2fsprogs >= 1.43 needed)")
}

/// The whole rootfs stage: returns the raw disk plus the kernel/initrd copied out for the first boot.
pub async fn build(b: &Build<'_>, src: &RootfsSource, boot_out: &Path, build_pubkey: &str, build_id: &str) -> Result<RootfsDisk> {
    let Build { def, dir: work, log, opts, .. } = *b;
    let dir = work.join("rootfs");
    std::fs::create_dir_all(&dir)?;
    let st = log.stage("mmdebstrap");
    debootstrap(src, &packages(def, src), def.firmware, &dir, opts.package_proxy, log).await?;
    st.done();
    let root_uuid = new_uuid()?;
    let esp = if def.firmware == Firmware::Efi { Some(new_fat_id()?) } else { None };
    customize(def, &dir, &root_uuid, esp.as_ref().map(|e| e.1.as_str()), build_pubkey, build_id)?;
    let (k, i) = find_kernel(&dir)?;
    std::fs::create_dir_all(boot_out)?;
    let kernel = boot_out.join("vmlinuz");
    let initrd = boot_out.join("initrd.img");
    std::fs::copy(&k, &kernel)?;
    std::fs::copy(&i, &initrd)?;
    let st = log.stage("disk image (sfdisk + mkfs.ext4 -d)");
    let raw = work.join("disk.raw");
    make_disk(&dir, &raw, &def.disk_size, def.firmware, &root_uuid, esp.as_ref().map(|e| e.0.as_str()), log).await?;
    st.done();
    // the tree is big and in the disk now: delete it in the background (tens of seconds on a busy disk)
    let trash = work.join(format!("trash-rootfs-{}", std::process::id()));
    if std::fs::rename(&dir, &trash).is_ok() {
        tokio::task::spawn_blocking(move || {
            let _ = crate::proc::remove_tree_safely(&trash);
        });
    }
    Ok(RootfsDisk { raw, root_uuid, kernel, initrd })
}

/// Commands run inside the first boot to make the disk boot by itself (BIOS + GRUB on the MBR).
pub const INSTALL_BOOTLOADER: &str = "set -e; export DEBIAN_FRONTEND=noninteractive; \
grub-install --target=i386-pc --recheck /dev/vda >/dev/null 2>&1 || grub-install --target=i386-pc /dev/vda; \
update-grub 2>&1 | tail -n 3";

/// The same for EFI: GRUB on the ESP at the removable-media path (no NVRAM entry needed).
pub const INSTALL_BOOTLOADER_EFI: &str = "set -e; export DEBIAN_FRONTEND=noninteractive; \
mountpoint -q /boot/efi || mount /boot/efi; \
grub-install --target=x86_64-efi --efi-directory=/boot/efi --removable --no-nvram >/dev/null 2>&1 || grub-install --target=x86_64-efi --efi-directory=/boot/efi --removable --no-nvram; \
test -s /boot/efi/EFI/BOOT/BOOTX64.EFI; \
update-grub 2>&1 | tail -n 3";

/// The bootloader installation for `firmware`.
pub fn install_bootloader(firmware: Firmware) -> (&'static str, &'static str) {
    match firmware {
        Firmware::Bios => ("install bootloader (GRUB, BIOS)", INSTALL_BOOTLOADER),
        Firmware::Efi => ("install bootloader (GRUB, EFI)", INSTALL_BOOTLOADER_EFI),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bios_layout_is_the_historical_one() {
        let l = Layout::for_disk(8 << 30, Firmware::Bios).unwrap();
        assert_eq!(l, Layout { esp: None, root_offset: 1 << 20, root_size: (8 << 30) - (1 << 20) });
        assert_eq!(l.sfdisk_script(), "label: dos\nstart=2048, type=83, bootable\n");
    }
    #[test]
    fn efi_layout_has_an_esp_and_room_for_the_backup_gpt() {
        let l = Layout::for_disk(4 << 30, Firmware::Efi).unwrap();
        assert_eq!(l.esp, Some((1 << 20, 128 << 20)));
        assert_eq!(l.root_offset, 129 << 20);
        assert_eq!(l.root_offset + l.root_size, (4 << 30) - (1 << 20));
        assert!(l.sfdisk_script().starts_with("label: gpt\n"));
        assert!(required_packages(Firmware::Efi).contains(&"grub-efi-amd64") && !required_packages(Firmware::Efi).contains(&"grub-pc"));
        assert!(Layout::for_disk(100 << 20, Firmware::Efi).is_err());
    }
}
