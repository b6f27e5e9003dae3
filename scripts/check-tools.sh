#!/usr/bin/env bash
# Lists every outside tool mdxconf's builds and tests use, where it is and which Debian package (and
# version, and archive) it came from; exits 1 naming what is missing. Run at the end of bootstrap.sh,
# so a CI log shows that a new machine got everything from bootstrap itself.
set -uo pipefail
tools=(
  qemu-system-x86_64 qemu-img qemu-io mmdebstrap debootstrap mkfs.ext4 mkfs.fat sfdisk xorriso cpio busybox
  /usr/sbin/sshd ssh ssh-keygen ssh-agent ssh-add sshpass sudo chage useradd chpasswd
  xmllint virt-v2v ansible ansible-playbook ansible-inventory ansible-vault packer hyperfine chromium
  systemd-analyze flock apt-cacher-ng objcopy /var/tmp/mdxconf-pytools/bin/kubernetes-validate /var/tmp/mdxconf-pytools/bin/pyinfra strace
  dnf rpm rpmbuild createrepo_c /usr/bin/python3 git gcc curl perl zip unzip ss findmnt
  /usr/share/OVMF/OVMF_CODE.fd /usr/share/OVMF/OVMF_VARS.fd
  /usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux
  /usr/lib/ISOLINUX/isohdpfx.bin
  cargo
)
missing=()
printf '%-34s %-40s %s\n' "tool" "found at" "package version (archive)"
for t in "${tools[@]}"; do
  if [[ $t == /* ]]; then p=$t; [ -e "$p" ] || p=""; else p=$(command -v "$t" 2>/dev/null || true); fi
  if [ -z "$p" ]; then
    printf '%-34s %-40s %s\n' "$t" "MISSING" ""
    missing+=("$t")
    continue
  fi
  real=$(readlink -f "$p")
  pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1)
  # merged /usr: dpkg knows /sbin/mkfs.ext4, not /usr/sbin/mkfs.ext4
  [ -n "$pkg" ] || pkg=$(dpkg -S "${real#/usr}" 2>/dev/null | head -1 | cut -d: -f1)
  if [ -n "$pkg" ]; then
    ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)
    case "$ver" in *bpo12*) arch="bookworm-backports";; *) arch="bookworm";; esac
    printf '%-34s %-40s %s\n' "$t" "$p" "$pkg $ver ($arch)"
  else
    printf '%-34s %-40s %s\n' "$t" "$p" "(not from a Debian package)"
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check-tools: missing: ${missing[*]}" >&2
  exit 1
fi
echo "check-tools: all ${#tools[@]} tools present"
