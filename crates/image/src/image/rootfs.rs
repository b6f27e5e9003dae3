//! rootfs source: mmdebstrap into a directory, a few files written by us, then the directory becomes an
//! ext4 partition of a raw disk without loop devices or mounts (`mkfs.ext4 -d DIR -E offset=...`
//! straight into the partition's byte range of the disk file). The bootloader is installed later from
//! inside the first boot (grub-install on the guest's own /dev/vda), which needs no host privileges.
use super::definition::{parse_size, Definition, RootfsSource};
use crate::proc::run_logged;
use crate::progress::BuildLog;
use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::process::Command;

/// Packages every rootfs image needs to boot and be reached by the build.
pub const REQUIRED_PACKAGES: &[&str] = &["linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "grub-pc", "iproute2", "systemd-resolved"];

/// Where the partition starts (1 MiB, the usual alignment; GRUB's core.img lives before it).
pub const PART_OFFSET: u64 = 1 << 20;

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
    std::fs::write(&p, content).with_context(|| format!("writing {}", p.display()))?;
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

/// Run mmdebstrap for `src` into `dir`.
pub async fn debootstrap(src: &RootfsSource, dir: &Path, log: &BuildLog) -> Result<()> {
    let mut pkgs: Vec<String> = REQUIRED_PACKAGES.iter().map(|s| s.to_string()).collect();
    for p in &src.packages {
        if !pkgs.contains(p) {
            pkgs.push(p.clone());
        }
    }
    let mut cmd = Command::new("mmdebstrap");
    cmd.arg(format!("--variant={}", src.variant)).arg(format!("--include={}", pkgs.join(",")));
    if !src.components.is_empty() {
        cmd.arg(format!("--components={}", src.components.join(",")));
    }
    cmd.args(["--aptopt=Acquire::Retries \"3\"", "--mode=root"]);
    // keep grub-pc's postinst from asking or failing about install devices: we install GRUB ourselves
    cmd.arg("--essential-hook=echo 'grub-pc grub-pc/install_devices_empty boolean true' | chroot \"$1\" debconf-set-selections || true");
    cmd.arg(&src.suite).arg(dir).arg(&src.mirror);
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    run_logged(&mut cmd, log.path()).await.context("mmdebstrap failed (is the Debian mirror reachable?)")
}

/// Write what the build and the first boot need into the tree.
pub fn customize(def: &Definition, dir: &Path, root_uuid: &str, build_pubkey: &str, build_id: &str) -> Result<()> {
    let host = def.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect::<String>();
    write(dir, "/etc/hostname", &format!("{host}\n"), 0o644)?;
    write(dir, "/etc/hosts", &format!("127.0.0.1\tlocalhost\n127.0.1.1\t{host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"), 0o644)?;
    write(dir, "/etc/fstab", &format!("UUID={root_uuid}\t/\text4\terrors=remount-ro\t0\t1\n"), 0o644)?;
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
    std::fs::write(&grub_path, grub)?;
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

/// Turn the tree into a raw disk: MBR with one bootable Linux partition at 1 MiB holding ext4.
pub async fn make_disk(dir: &Path, raw: &Path, size: &str, root_uuid: &str, log: &BuildLog) -> Result<()> {
    let bytes = parse_size(size).context("bad disk_size")?;
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
        si.write_all(format!("label: dos\nstart={}, type=83, bootable\n", PART_OFFSET / 512).as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!("sfdisk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let part_kib = (bytes - PART_OFFSET) / 1024;
    let mut mk = Command::new("mkfs.ext4");
    mk.args(["-F", "-q", "-L", "root", "-U", root_uuid, "-d"]).arg(dir);
    mk.arg("-E").arg(format!("offset={PART_OFFSET}")).arg(raw).arg(format!("{part_kib}k"));
    run_logged(&mut mk, log.path()).await.context("mkfs.ext4 -d (e2fsprogs >= 1.43 needed)")
}

/// The whole rootfs stage: returns the raw disk plus the kernel/initrd copied out for the first boot.
pub async fn build(def: &Definition, src: &RootfsSource, work: &Path, boot_out: &Path, build_pubkey: &str, build_id: &str, log: &BuildLog) -> Result<RootfsDisk> {
    let dir = work.join("rootfs");
    std::fs::create_dir_all(&dir)?;
    let st = log.stage("mmdebstrap");
    debootstrap(src, &dir, log).await?;
    st.done();
    let root_uuid = new_uuid()?;
    customize(def, &dir, &root_uuid, build_pubkey, build_id)?;
    let (k, i) = find_kernel(&dir)?;
    std::fs::create_dir_all(boot_out)?;
    let kernel = boot_out.join("vmlinuz");
    let initrd = boot_out.join("initrd.img");
    std::fs::copy(&k, &kernel)?;
    std::fs::copy(&i, &initrd)?;
    let st = log.stage("disk image (sfdisk + mkfs.ext4 -d)");
    let raw = work.join("disk.raw");
    make_disk(&dir, &raw, &def.disk_size, &root_uuid, log).await?;
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
