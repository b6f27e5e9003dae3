# Guest half of the Packer rootfs baseline (first shell provisioner, root over SSH): what mdxconf runs
# after the first boot of a rootfs image before generalizing: GRUB on the MBR (the disk was booted with
# -kernel/-initrd), then the build record's facts (kernel, packages, dkms per kernel).
set -eu
export DEBIAN_FRONTEND=noninteractive
grub-install --target=i386-pc --recheck /dev/vda >/dev/null 2>&1 || grub-install --target=i386-pc /dev/vda
update-grub 2>&1 | tail -n 3
uname -r; dpkg-query -W -f='${Package}\t${Version}\n' | wc -l
for k in $(ls -1 /lib/modules); do if command -v dkms >/dev/null 2>&1; then dkms status -k "$k"; fi; done
