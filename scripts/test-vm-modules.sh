#!/usr/bin/env bash
# Tests that need a booted systemd guest (modules; apply; the catalogue timer), on a fresh `mdxconf lab` VM
# of the cached debian12-server image.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${MDXCONF_TEST_CACHE:-/var/tmp/mdxconf-test-cache}"
bin="${CARGO_TARGET_DIR:-$PWD/target}/ci/mdxconf"
lab=$(mktemp -d /tmp/mdxconf-vmtest.XXXXXX)
trap '"$bin" lab down --dir "$lab" >/dev/null 2>&1 || true; rm -rf "$lab"' EXIT
"$bin" lab up 1 --image debian12-server --cache-dir "$cache" --dir "$lab"
port=$(sed -n 's/^vm1 .*ansible_port=\([0-9]*\).*/\1/p' "$lab/inventory.ini")
[ -n "$port" ] || { echo "no ansible_port for vm1 in $lab/inventory.ini" >&2; exit 1; }
MDXCONF_TEST_VM="root@127.0.0.1:$port" MDXCONF_TEST_VM_KEY="$lab/id_ed25519" \
  cargo test --profile ci -p mdxconf-engine --test it -- --ignored --test-threads=1 modules_vm::
MDXCONF_TEST_INVENTORY="$lab/inventory.ini" \
  cargo test --profile ci -p mdxconf-engine --test it -- --ignored --test-threads=1 apply_vm::
# the catalogue's systemd timer for real (this machine's PID 1 is not systemd; the VM's is)
MDXCONF_TEST_VM="root@127.0.0.1:$port" MDXCONF_TEST_VM_KEY="$lab/id_ed25519" \
  cargo test --profile ci -p mdxconf-image --test it -- --ignored --test-threads=1 schedule_vm::
