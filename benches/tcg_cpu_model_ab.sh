#!/usr/bin/env bash
# A/B of the CPU model QEMU emulates under TCG: boots the cached debian12-server stage disk (snapshot=on, so
# nothing is written) once per model given, alternating as listed, and times boot-to-SSH, a
# tar|gzip|sha256 pipeline and a Python loop inside the guest. Needs the test cache's debian12-server build.
# Usage: benches/tcg_cpu_model_ab.sh max qemu64 max qemu64
set -u
cache=${MDXCONF_TEST_CACHE:-/var/tmp/mdxconf-test-cache}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
base=$cache/images/debian12-server/$(cat $cache/images/debian12-server/latest)/stage.qcow2
key=$cache/keys/build_ed25519
port=$((40000 + RANDOM % 2000))
for cpu in "$@"; do
  t0=$(date +%s.%N)
  qemu-system-x86_64 -machine pc -m 1024 -smp 2 -accel tcg,thread=multi -cpu $cpu -display none -vga none -nodefaults \
    -drive file=$base,format=qcow2,if=virtio,snapshot=on -netdev user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22 -device virtio-net-pci,netdev=n0 \
    -serial file:"$work/serial-$cpu.log" &
  qp=$!
  until ssh -q -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i $key -p $port root@127.0.0.1 true 2>/dev/null; do
    kill -0 $qp 2>/dev/null || { echo "QEMU with -cpu $cpu exited before SSH answered" >&2; exit 1; }
    sleep 1
  done
  t1=$(date +%s.%N)
  w=$(ssh -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i $key -p $port root@127.0.0.1 \
    's=$(date +%s%N); tar -cf - /usr/lib/x86_64-linux-gnu 2>/dev/null | gzip -1 | sha256sum >/dev/null; m=$(date +%s%N); python3 -c "sum(i*i for i in range(3*10**6))"; e=$(date +%s%N); echo "tar|gzip|sha256 $(( (m - s)/1000000 )) ms; python $(( (e - m)/1000000 )) ms"')
  echo "cpu=$cpu boot-to-ssh $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; $w; load $(cut -d' ' -f1 /proc/loadavg)"
  kill $qp; wait $qp 2>/dev/null
  port=$((port+1))
done
