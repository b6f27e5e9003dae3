#!/usr/bin/env bash
# Installs everything mdxconf's builds and tests need on a fresh Debian 12 machine (run as root).
# Rust (cargo >= 1.85) must already be on PATH: Debian 12's own cargo is too old for the dependencies.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
# Machines of the kind CI runs on come with qemu-utils from bookworm-backports but without backports in
# apt's sources; bookworm's qemu-system-x86 then cannot be installed beside it ("qemu-utils : Breaks:
# qemu-system-common (< ...)"). In that case add bookworm-backports and take the whole QEMU set from there;
# on plain Debian 12 everything comes from bookworm.
QEMU_FROM=()
if dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null | grep -q '~bpo12'; then
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "bootstrap: qemu-utils comes from bookworm-backports; adding bookworm-backports to apt's sources"
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  QEMU_FROM=(-t bookworm-backports)
fi
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${QEMU_FROM[@]}" \
  qemu-system-x86 qemu-system-common qemu-system-data qemu-utils qemu-block-extra
$SUDO apt-get install -y --no-install-recommends \
  ovmf \
  openssh-server openssh-client sshpass sudo iproute2 passwd \
  mmdebstrap debootstrap e2fsprogs dosfstools fdisk xorriso cpio busybox-static \
  debian-installer-12-netboot-amd64 \
  libxml2-utils virt-v2v libguestfs-tools nbdkit libnbd-bin linux-image-amd64 \
  ansible packer hyperfine isolinux syslinux-common chromium fonts-dejavu-core apt-cacher-ng binutils \
  python3 python3-venv python3-pip zip unzip util-linux \
  dnf rpm createrepo-c \
  ca-certificates curl git gcc libc6-dev pkg-config strace
# Python tools from PyPI the tests and benchmarks use, in their own venv: kubernetes-validate (the CronJob
# test) and pyinfra (a peer in benches/apply_bench.sh; pinned so its numbers stay comparable)
PYTOOLS=/var/tmp/mdxconf-pytools
PYINFRA_VERSION=3.10.0
[ -x "$PYTOOLS/bin/kubernetes-validate" ] || { python3 -m venv "$PYTOOLS" && "$PYTOOLS/bin/pip" install -q kubernetes-validate; }
"$PYTOOLS/bin/pip" show pyinfra 2>/dev/null | grep -qx "Version: $PYINFRA_VERSION" || "$PYTOOLS/bin/pip" install -q "pyinfra==$PYINFRA_VERSION"
command -v cargo >/dev/null || { echo "bootstrap: cargo not found: install a Rust toolchain >= 1.85 first" >&2; exit 1; }
mkdir -p /run/sshd
# show where every tool came from (and fail on a missing one)
"$(dirname "$0")/check-tools.sh"
