#!/usr/bin/env bash
# The whole test suite: unit and integration tests of every crate against real sshd, QEMU guests and validators,
# then the module tests that need a booted systemd VM (service, hostname, live sysctl, modprobe, mount) on a
# lab VM booted from the Debian 12 image that the image tests built, then the role tests on a 3-VM lab
# (tests/it/roles_lab.rs: every role except the GPU ones, --check prediction, second run 0 changed, functional
# checks) on images/debian12-lab.yaml, built once into the same cache (its own rootfs: packages installed by mmdebstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
export MDXCONF_TEST_CACHE="${MDXCONF_TEST_CACHE:-/var/tmp/mdxconf-test-cache}"
# The suite needs several GiB of disk (build output, the cached test images, images written by tests);
# a failure for want of space is easier to read next to these numbers.
disk() { echo "== disk $1: $(df -h --output=avail "${CARGO_TARGET_DIR:-.}" | tail -1 | tr -d ' ') free where cargo builds, $(df -h --output=avail /var/tmp | tail -1 | tr -d ' ') in /var/tmp"; }
# Each phase prints its wall time; the summary at the end lists them all (CI must stay under 60 minutes).
suite_start=$SECONDS
phases=()
phase() {
  local name=$1; shift
  local t0=$SECONDS
  echo "== phase $name: start"
  "$@"
  local dt=$((SECONDS - t0))
  phases+=("$(printf '%-24s %5ds' "$name" "$dt")")
  echo "== phase $name: ${dt}s"
}
summary() {
  echo "== phase times (total $((SECONDS - suite_start))s):"
  for p in "${phases[@]}"; do echo "   $p"; done
}
trap summary EXIT
disk "at start"
phase build cargo build --profile ci --workspace --bins
disk "after the build"
phase crate-tests cargo test --profile ci --workspace --no-fail-fast -- --test-threads=2
disk "after the crate tests"
# the user journey: the default template exported for both clouds, `image test` of each, two VMs
# deployed as each cloud would, portal CSV -> inventory -> passwdinit -> apply twice
phase journey env MDXCONF_CACHE="$MDXCONF_TEST_CACHE" cargo test --profile ci -p mdxconf --test it -- --ignored --nocapture journey::
phase vm-modules scripts/test-vm-modules.sh
phase roles-lab env MDXCONF_CACHE="$MDXCONF_TEST_CACHE" cargo test --profile ci -p mdxconf --test it -- --ignored --nocapture roles_lab::
disk "at the end"
