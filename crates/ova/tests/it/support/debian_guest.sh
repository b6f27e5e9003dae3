#!/bin/bash
# Builds a small Debian 12 guest disk (raw, MBR, one ext4 partition) that virt-v2v can inspect and
# convert: kernel + initramfs in /boot, grub-pc installed with a grub.cfg, fstab by UUID, os-release.
# The cloud kernel and a listed-modules initramfs keep virt-v2v's initramfs rebuild (run under TCG) short.
# Cached under /var/tmp/mdxconf-test-cache keyed by this script's hash; prints the raw image path.
# No loop devices are needed: the filesystem is made with `mkfs.ext4 -d` and copied into the partition.
set -euo pipefail
cache=/var/tmp/mdxconf-test-cache
key=$(sha256sum "$0" | cut -c1-16)
out="$cache/debian12-guest-$key.raw"
if [ -s "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mmdebstrap --quiet --variant=minbase \
  --include=linux-image-cloud-amd64,grub-pc,systemd-sysv,initramfs-tools,udev,e2fsprogs,ifupdown \
  --customize-hook='echo mdxconf-test > "$1/etc/hostname"' \
  --customize-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/mdxconf-test.conf"' \
  --customize-hook='printf "virtio_pci\nvirtio_blk\nvirtio_scsi\nvmw_pvscsi\nnvme\next4\n" >> "$1/etc/initramfs-tools/modules"' \
  --customize-hook='chroot "$1" update-initramfs -u -k all' \
  bookworm "$root" >&2
uuid=$(cat /proc/sys/kernel/random/uuid)
echo "UUID=$uuid / ext4 errors=remount-ro 0 1" > "$root/etc/fstab"
kver=$(ls "$root/boot" | sed -n 's/^vmlinuz-//p' | head -1)
mkdir -p "$root/boot/grub"
cat > "$root/boot/grub/grub.cfg" <<CFG
set default=0
set timeout=1
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux' {
  linux /boot/vmlinuz-$kver root=UUID=$uuid ro console=ttyS0
  initrd /boot/initrd.img-$kver
}
CFG
disk_mib=2048
part_start_mib=1
truncate -s "${disk_mib}M" "$work/disk.raw"
printf 'label: dos\nstart=%dMiB, type=83, bootable\n' "$part_start_mib" | sfdisk --quiet "$work/disk.raw"
part_mib=$((disk_mib - part_start_mib))
mkfs.ext4 -q -F -U "$uuid" -d "$root" "$work/part.raw" "${part_mib}M" >&2
dd if="$work/part.raw" of="$work/disk.raw" bs=1M seek="$part_start_mib" conv=notrunc,sparse status=none
# MBR boot code: grub's boot.img + core.img via grub-bios-setup needs a device; write with guestfish
# is slow under TCG, so the stage-1 is skipped when it fails (virt-v2v inspects /boot, not the MBR).
mv "$work/disk.raw" "$out"
echo "$out"
