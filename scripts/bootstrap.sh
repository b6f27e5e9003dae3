#!/usr/bin/env bash
# Installs everything mdxconf's builds and tests need on a fresh Debian 12 machine (run as root).
# Rust (cargo >= 1.85) must already be on PATH: Debian 12's own cargo is too old for the dependencies.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update
# qemu-utils may already come from backports; plain Debian 12's qemu-utils is fine too.
$SUDO apt-get install -y --no-install-recommends \
  qemu-system-x86 qemu-utils ovmf \
  openssh-server openssh-client sshpass sudo iproute2 passwd \
  mmdebstrap debootstrap e2fsprogs dosfstools fdisk xorriso cpio busybox-static \
  debian-installer-12-netboot-amd64 \
  libxml2-utils virt-v2v libguestfs-tools nbdkit libnbd-bin linux-image-amd64 \
  ansible packer hyperfine isolinux syslinux-common \
  python3 python3-venv python3-pip zip unzip util-linux \
  dnf rpm createrepo-c \
  ca-certificates curl git gcc libc6-dev pkg-config
command -v cargo >/dev/null || { echo "bootstrap: cargo not found: install a Rust toolchain >= 1.85 first" >&2; exit 1; }
mkdir -p /run/sshd
