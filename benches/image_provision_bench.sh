#!/usr/bin/env bash
# Provisioning-stage benchmark: the same variant built on the same base disk by mdxconf and by Packer 1.6.6
# (Debian's packer package, qemu builder with `disk_image: true`). A like-for-like Packer Debian build
# from the installer cannot run here (the sandbox mirror lacks installer udebs, see BENCHMARKS.md), so this
# compares the stage both tools can run: boot a rootfs-built Debian 12 disk, apply a small role, generalize,
# power off, write a standalone qcow2.
#
#   base disk: the cached debian12-server build's stage.qcow2 (provisioned, not generalized; root logs in
#              with the cache's build key) — the disk mdxconf's overlay variants are built on
#   mdxconf:   `image build --force` of crates/image/tests/fixtures/debian12-role.yaml (overlay on that
#              disk, role mdxconf_image_test through the role engine with fact gathering, build record,
#              generalize, qcow2 output)
#   Packer:    qemu builder, disk_image: true on a copy of the same disk, SSH with the same key, a shell
#              provisioner doing the role's two steps and mdxconf's generalize steps, `poweroff`, qcow2
#              output (Packer's compaction = qemu-img convert)
#
# Both run under TCG with 2 vCPUs and 1 GiB. Each build runs RUNS times (default 1), alternating.
# Usage: MDXCONF_BIN=path/to/mdxconf benches/image_provision_bench.sh [RESULTS_MD]
#        (default cache: $MDXCONF_TEST_CACHE or /var/tmp/mdxconf-test-cache, must hold debian12-server;
#         the mdxconf runs add entries for debian12-role-test there, the base is only read)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out_md=${1:-$here/benches/results/image_provision.md}
cache=${MDXCONF_TEST_CACHE:-/var/tmp/mdxconf-test-cache}
runs=${RUNS:-1}
bin=${MDXCONF_BIN:-}
if [ -z "$bin" ]; then
  (cd "$here" && cargo build -q --bin mdxconf)
  bin="${CARGO_TARGET_DIR:-$here/target}/debug/mdxconf"
fi
base_key=$(cat "$cache/images/debian12-server/latest")
base="$cache/images/debian12-server/$base_key/stage.qcow2"
key="$cache/keys/build_ed25519"
[ -f "$base" ] && [ -f "$key" ] || { echo "no cached debian12-server in $cache (build images/debian12-server.yaml first)" >&2; exit 1; }
work=$(mktemp -d /var/tmp/mdxconf-provision-bench.XXXXXX)
. "$here/benches/lib.sh"
trap 'bench_cleanup "$work"' EXIT

# The role's two tasks (tests/fixtures/roles/mdxconf_image_test) as a shell provisioner, followed by
# mdxconf's generalize steps (benches/packer/generalize.sh).
cat > "$work/provision.sh" <<'EOF'
set -eu
printf 'provisioned by mdxconf image build\n' > /etc/mdxconf-image-test; chmod 0644 /etc/mdxconf-image-test
. /etc/os-release; line="distribution=${NAME%% *}"; grep -qxF "$line" /etc/mdxconf-image-test || echo "$line" >> /etc/mdxconf-image-test
EOF

packer_once() {
  local i=$1
  cat > "$work/packer.json" <<EOF
{
  "builders": [{
    "type": "qemu",
    "iso_url": "$base",
    "iso_checksum": "none",
    "disk_image": true,
    "output_directory": "$work/packer-out-$i",
    "vm_name": "debian12-role-packer.qcow2",
    "format": "qcow2",
    "skip_resize_disk": true,
    "disk_interface": "virtio",
    "net_device": "virtio-net",
    "accelerator": "tcg",
    "cpus": 2,
    "memory": 1024,
    "headless": true,
    "vnc_bind_address": "127.0.0.1",
    "qemuargs": [["-serial", "file:$work/packer-serial-$i.log"]],
    "boot_wait": "1s",
    "communicator": "ssh",
    "ssh_username": "root",
    "ssh_private_key_file": "$key",
    "ssh_timeout": "60m",
    "shutdown_command": "rm -f /root/.ssh/authorized_keys; poweroff"
  }],
  "provisioners": [{ "type": "shell", "scripts": ["$work/provision.sh", "$here/benches/packer/generalize.sh"] }]
}
EOF
  run_packer "$work/packer.json" "$work/packer-$i"
  [ "$packer_rc" = 0 ] || { echo "packer failed ($packer_rc):"; tail -n 20 "$work/packer-$i-stdout.log"; exit 1; }
  packer_times+=("$packer_secs")
  packer_size=$(stat -c %s "$work/packer-out-$i/debian12-role-packer.qcow2")
  rm -rf "$work/packer-out-$i" "$work/packer_cache"
}

mdxconf_once() {
  local i=$1 t0 t1
  t0=$(now)
  "$bin" image build "$here/crates/image/tests/fixtures/debian12-role.yaml" --force --cache-dir "$cache" --output-dir "$work/mdx-out" --quiet
  t1=$(now)
  mdx_times+=("$(secs "$t0" "$t1")")
  mdx_size=$(stat -c %s "$work/mdx-out/debian12-role-test.qcow2")
  rec="$cache/images/debian12-role-test/$(cat "$cache/images/debian12-role-test/latest")/record.json"
  mdx_stages=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("; ".join(f"{n} {s:.0f}s" for n,s in r["durations"]))' "$rec")
  rm -rf "$work/mdx-out"
}

mdx_times=(); packer_times=(); mdx_size=0; packer_size=0; mdx_stages=""
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq 1 "$runs"); do
  echo "== run $i: mdxconf"; mdxconf_once "$i"
  echo "== run $i: packer";  packer_once "$i"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$out_md")"
cat > "$out_md" <<EOF
# Provisioning stage: mdxconf vs Packer 1.6.6 on the same base disk (benches/image_provision_bench.sh)

Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other
jobs: load average $load_before before, $load_after after (1/5/15 min). TCG (no working KVM here).
Date: $(date -u +%Y-%m-%dT%H:%MZ). Runs: $runs each, alternating mdxconf/Packer.

| build (same base disk: debian12-server $base_key stage.qcow2) | wall time per run | output |
|---|---|---|
| mdxconf \`image build --force\` overlay variant (role engine + facts, record, generalize, qcow2) | ${mdx_times[*]} s | $((mdx_size >> 20)) MiB qcow2 |
| Packer 1.6.6 qemu \`disk_image: true\` + shell provisioner (same steps), qcow2 | ${packer_times[*]} s | $((packer_size >> 20)) MiB qcow2 |

mdxconf stages (last run): $mdx_stages

Commands:

    $bin image build crates/image/tests/fixtures/debian12-role.yaml --force --cache-dir $cache --output-dir \$OUT --quiet
    packer build packer.json   # template generated by benches/image_provision_bench.sh
EOF
echo "results written to $out_md"
cat "$out_md"
