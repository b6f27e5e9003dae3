#!/usr/bin/env bash
# Host half of the Packer baseline for a rootfs-built Debian 12 image: what a Packer 1.6.6 user has to
# script by hand before `packer build` can boot anything, because Packer has no rootfs builder. Same
# inputs and steps as mdxconf's rootfs source for images/debian12-server.yaml (crates/image/src/image/
# rootfs.rs): mmdebstrap (root mode, same package list, grub-pc answer), the same files written into the
# tree, MBR + ext4 made with sfdisk and `mkfs.ext4 -d` (no loop devices), kernel and initrd copied out
# for the first boot (-kernel/-initrd through Packer's qemuargs).
#
# Usage: prepare.sh WORKDIR PUBKEY_FILE      writes WORKDIR/disk.raw, vmlinuz, initrd.img, root-uuid
set -euo pipefail
work=$1; pubkey=$(cat "$2")
rootfs="$work/rootfs"
mkdir -p "$rootfs"
pkgs=linux-image-amd64,systemd-sysv,udev,openssh-server,grub-pc,iproute2,systemd-resolved,e2fsprogs,ca-certificates,sudo,iputils-ping,less,python3,dbus,kmod,zstd
DEBIAN_FRONTEND=noninteractive mmdebstrap --quiet --variant=minbase --include="$pkgs" \
  '--aptopt=Acquire::Retries "3"' --mode=root \
  "--essential-hook=echo 'grub-pc grub-pc/install_devices_empty boolean true' | chroot \"\$1\" debconf-set-selections || true" \
  bookworm "$rootfs" http://deb.debian.org/debian

uuid=$(cat /proc/sys/kernel/random/uuid)
echo "$uuid" > "$work/root-uuid"
host=debian12-server
printf '%s\n' "$host" > "$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$host" > "$rootfs/etc/hosts"
printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" > "$rootfs/etc/fstab"
mkdir -p "$rootfs/etc/systemd/network" "$rootfs/etc/systemd/system/multi-user.target.wants" "$rootfs/etc/systemd/system/ssh.service.requires"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=yes\n\n[Link]\nRequiredForOnline=no\n' > "$rootfs/etc/systemd/network/80-dhcp.network"
cat > "$rootfs/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys on first boot
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
RequiredBy=ssh.service
UNIT
ln -sf /lib/systemd/system/systemd-networkd.service "$rootfs/etc/systemd/system/multi-user.target.wants/"
ln -sf /etc/systemd/system/ssh-hostkeys.service "$rootfs/etc/systemd/system/multi-user.target.wants/"
ln -sf /etc/systemd/system/ssh-hostkeys.service "$rootfs/etc/systemd/system/ssh.service.requires/"
install -d -m 0700 "$rootfs/root/.ssh"
install -m 0600 /dev/null "$rootfs/root/.ssh/authorized_keys"
echo "$pubkey" > "$rootfs/root/.ssh/authorized_keys"
sed -i -E -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=1/' \
  -e 's/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT="console=tty0 console=ttyS0,115200n8"/' \
  "$rootfs/etc/default/grub"
grep -q '^GRUB_TERMINAL=' "$rootfs/etc/default/grub" || echo 'GRUB_TERMINAL="console serial"' >> "$rootfs/etc/default/grub"

kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort | tail -n 1)
cp "$kernel" "$work/vmlinuz"
cp "$rootfs/boot/initrd.img-${kernel##*/vmlinuz-}" "$work/initrd.img"

size=$((8 << 30)); off=$((1 << 20))
truncate -s "$size" "$work/disk.raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk --quiet --no-reread --no-tell-kernel "$work/disk.raw"
mkfs.ext4 -F -q -L root -U "$uuid" -d "$rootfs" -E offset=$off "$work/disk.raw" "$(( (size - off) / 1024 ))k"
rm -rf "$rootfs"
