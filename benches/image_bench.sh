#!/usr/bin/env bash
# Image build benchmark: mdxconf vs Packer 1.6.6 (Debian's packer package), both under QEMU.
#
#   1. mdxconf full build of images/debian12-server.yaml (rootfs source) with an empty cache
#   2. mdxconf rebuild of the same unchanged definition (cache hit)
#   3. packer-rootfs: the same rootfs pipeline done the Packer way: a host script
#      (benches/packer/rootfs_prepare.sh: mmdebstrap with the same packages, the same files, sfdisk +
#      mkfs.ext4 -d), then Packer 1.6.6's qemu builder with `disk_image: true` booting that disk with
#      -kernel/-initrd (qemuargs) and shell provisioners (benches/packer/rootfs_first_boot.sh: GRUB
#      and the record's facts; benches/packer/generalize.sh: the same generalization), shutdown,
#      qcow2. The like-for-like full build.
#   4. packer (not run by default): the Debian 12 netboot installer (debian-installer-12-netboot-amd64)
#      on an ISO made here with isolinux, boot command typed over VNC, preseed from Packer's HTTP
#      server, SSH, a shell provisioner doing the same generalization, shutdown. Cannot finish on a
#      mirror without installer udebs (see BENCHMARKS.md).
#
# Needs: qemu-system-x86, qemu-utils, mmdebstrap, packer, xorriso, isolinux, syslinux-common,
# fdisk, e2fsprogs, debian-installer-12-netboot-amd64 (part packer), hyperfine is not used (each run is minutes long; run once).
# Usage: benches/image_bench.sh [RESULTS_MD]   (MDXCONF_BIN=path/to/mdxconf to skip cargo build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out_md=${1:-$here/benches/results/image.md}
work=$(mktemp -d /var/tmp/mdxconf-image-bench.XXXXXX)
. "$here/benches/lib.sh"
trap 'bench_cleanup "$work"' EXIT

bin=${MDXCONF_BIN:-}
if [ -z "$bin" ] && [[ " ${BENCH_PARTS:-mdxconf packer-rootfs} " == *" mdxconf "* ]]; then
  # debug build is enough: QEMU, mmdebstrap and I/O dominate, not mdxconf's own code
  (cd "$here" && cargo build -q --bin mdxconf)
  bin="${CARGO_TARGET_DIR:-$here/target}/debug/mdxconf"
fi
export MDXCONF_ACCEL=${MDXCONF_ACCEL:-}   # empty: probe (falls back to TCG where KVM does not work)
[ -z "$MDXCONF_ACCEL" ] && unset MDXCONF_ACCEL


# BENCH_PARTS selects what runs now ("mdxconf packer-rootfs" by default); results of each part are kept in
# $res_dir so the parts can run at different times (2-core machine) and the report combines them.
parts=${BENCH_PARTS:-mdxconf packer-rootfs}
res_dir=${BENCH_RESULTS_DIR:-/var/tmp/mdxconf-image-bench-results}
mkdir -p "$res_dir"
if [[ " $parts " == *" mdxconf "* ]]; then
echo "== mdxconf full build (empty cache)"
t0=$(now)
"$bin" image build "$here/images/debian12-server.yaml" --cache-dir "$work/cache" --output-dir "$work/out" --quiet
t1=$(now)
full=$(secs "$t0" "$t1")
echo "== mdxconf cached rebuild"
t0=$(now)
"$bin" image build "$here/images/debian12-server.yaml" --cache-dir "$work/cache" --output-dir "$work/out" --quiet
t1=$(now)
cached=$(secs "$t0" "$t1")
rec=$(ls "$work"/cache/images/debian12-server/*/record.json)
stages=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("; ".join(f"{n} {s:.0f}s" for n,s in r["durations"]))' "$rec")
accel=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["accel"])' "$rec")
mdx_size=$(stat -c %s "$work/out/debian12-server.qcow2")
declare -p full cached stages accel mdx_size | sed 's/^declare -[-a-z]* //' > "$res_dir/mdxconf.env"
fi

if [[ " $parts " == *" packer "* ]]; then
echo "== Packer $(packer version | head -1): Debian 12 netboot installer + preseed"
nb=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
mkdir -p "$work/iso/isolinux" "$work/http"
cp "$nb/linux" "$nb/initrd.gz" "$work/iso/"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
printf 'prompt 1\ntimeout 0\nlabel install\n  kernel /linux\n  append initrd=/initrd.gz\n' > "$work/iso/isolinux/isolinux.cfg"
xorriso -as mkisofs -quiet -o "$work/d-i.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$work/iso"
# same answers as images/debian/preseed.cfg, but Packer logs in with a password (it cannot template
# the preseed) and the installer reboots into the disk instead of powering off
sed -e 's|^d-i passwd/root-password-crypted.*|d-i passwd/root-password password packer\nd-i passwd/root-password-again password packer|' \
    -e 's|^d-i preseed/late_command.*|d-i preseed/late_command string in-target sed -i "s/^#\\?PermitRootLogin.*/PermitRootLogin yes/" /etc/ssh/sshd_config|' \
    -e '/debian-installer\/exit\/poweroff/d' \
    -e 's/{{ hostname }}/packer-debian12/' \
    "$here/images/debian/preseed.cfg" > "$work/http/preseed.cfg"
accel_packer=${PACKER_ACCEL:-tcg}   # KVM cannot boot Linux on the reference host
cat > "$work/debian12.json" <<EOF
{
  "builders": [{
    "type": "qemu",
    "iso_url": "$work/d-i.iso",
    "iso_checksum": "none",
    "output_directory": "$work/packer-out",
    "vm_name": "debian12-packer.qcow2",
    "format": "qcow2",
    "disk_size": "8G",
    "disk_interface": "virtio",
    "net_device": "virtio-net",
    "accelerator": "$accel_packer",
    "cpus": 2,
    "memory": 1024,
    "headless": true,
    "vnc_bind_address": "127.0.0.1",
    "http_directory": "$work/http",
    "qemuargs": [["-serial", "file:$work/packer-serial.log"]],
    "boot_wait": "10s",
    "boot_command": ["install auto=true priority=critical url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg netcfg/get_hostname=packer-debian12 netcfg/get_domain=localdomain console=ttyS0,115200n8 DEBIAN_FRONTEND=text<enter>"],
    "communicator": "ssh",
    "ssh_username": "root",
    "ssh_password": "packer",
    "ssh_timeout": "120m",
    "shutdown_command": "poweroff"
  }],
  "provisioners": [{
    "type": "shell",
    "inline": ["truncate -s 0 /etc/machine-id", "rm -f /etc/ssh/ssh_host_*", "apt-get clean", "rm -rf /var/lib/apt/lists/*", "sync"]
  }]
}
EOF
run_packer "$work/debian12.json" "$work/packer"
packer_t=$packer_secs
packer_size=$(stat -c %s "$work/packer-out/debian12-packer.qcow2" 2>/dev/null || echo 0)
packer_tail=$(tail -n 5 "$work/packer-stdout.log" | sed 's/^/    /')
cp "$work/packer-stdout.log" "$res_dir/packer-stdout.log" 2>/dev/null || true
cp "$work/packer-serial.log" "$res_dir/packer-serial.log" 2>/dev/null || true
declare -p packer_t packer_rc packer_size packer_tail | sed 's/^declare -[-a-z]* //' > "$res_dir/packer.env"
fi

if [[ " $parts " == *" packer-rootfs "* ]]; then
echo "== Packer $(packer version | head -1): the rootfs pipeline by hand (mmdebstrap script + qemu disk_image)"
prw="$work/packer-rootfs"
mkdir -p "$prw"
ssh-keygen -q -t ed25519 -N '' -f "$prw/build_key"
t0=$(now)
"$here/benches/packer/rootfs_prepare.sh" "$prw" "$prw/build_key.pub"
t1=$(now)
pr_prepare=$(secs "$t0" "$t1")
cat > "$prw/debian12.json" <<EOF
{
  "builders": [{
    "type": "qemu",
    "iso_url": "$prw/disk.raw",
    "iso_checksum": "none",
    "disk_image": true,
    "output_directory": "$prw/out",
    "vm_name": "debian12-packer-rootfs.qcow2",
    "format": "qcow2",
    "skip_resize_disk": true,
    "disk_interface": "virtio",
    "net_device": "virtio-net",
    "accelerator": "${PACKER_ACCEL:-tcg}",
    "cpus": 2,
    "memory": 1024,
    "headless": true,
    "vnc_bind_address": "127.0.0.1",
    "qemuargs": [["-kernel", "$prw/vmlinuz"], ["-initrd", "$prw/initrd.img"],
                 ["-append", "root=UUID=$(cat "$prw/root-uuid") ro console=ttyS0,115200n8"],
                 ["-serial", "file:$prw/serial.log"]],
    "boot_wait": "1s",
    "communicator": "ssh",
    "ssh_username": "root",
    "ssh_private_key_file": "$prw/build_key",
    "ssh_timeout": "60m",
    "shutdown_command": "rm -f /root/.ssh/authorized_keys; poweroff"
  }],
  "provisioners": [{ "type": "shell", "scripts": ["$here/benches/packer/rootfs_first_boot.sh", "$here/benches/packer/generalize.sh"] }]
}
EOF
run_packer "$prw/debian12.json" "$prw/packer"
pr_rc=$packer_rc; pr_packer=$packer_secs
pr_total=$(awk -v a="$pr_prepare" -v b="$pr_packer" 'BEGIN { printf "%.1f", a + b }')
pr_size=$(stat -c %s "$prw/out/debian12-packer-rootfs.qcow2" 2>/dev/null || echo 0)
cp "$prw/packer-stdout.log" "$res_dir/packer-rootfs-stdout.log"
cp "$prw/serial.log" "$res_dir/packer-rootfs-serial.log" 2>/dev/null || true
[ "$pr_rc" = 0 ] || { echo "packer (rootfs pipeline) failed ($pr_rc):"; tail -n 20 "$prw/packer-stdout.log"; }
declare -p pr_prepare pr_packer pr_total pr_rc pr_size | sed 's/^declare -[-a-z]* //' > "$res_dir/packer-rootfs.env"
fi
full=n/a; cached=n/a; stages=n/a; accel=tcg; mdx_size=0
pr_prepare=n/a; pr_packer=n/a; pr_total=n/a; pr_rc=n/a; pr_size=0
packer_t=n/a; packer_rc=n/a; packer_size=0; packer_tail="(not run)"
[ -f "$res_dir/mdxconf.env" ] && . "$res_dir/mdxconf.env"
[ -f "$res_dir/packer.env" ] && . "$res_dir/packer.env"
[ -f "$res_dir/packer-rootfs.env" ] && . "$res_dir/packer-rootfs.env"
mkdir -p "$(dirname "$out_md")"

cat > "$out_md" <<EOF
# Image build benchmark (benches/image_bench.sh)

Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), shared with other jobs;
accelerator: $accel (mdxconf's probe; KVM cannot boot Linux on this host). Date: $(date -u +%Y-%m-%dT%H:%MZ).
Each build ran once (minutes long; no repetition).

| build | wall time | output |
|---|---|---|
| mdxconf full build, debian12-server (mmdebstrap rootfs, boot, GRUB, generalize, qcow2) | ${full} s | $((mdx_size >> 20)) MiB qcow2 |
| mdxconf rebuild, unchanged definition (cache hit) | ${cached} s | same |
| Packer 1.6.6 rootfs pipeline by hand: prepare.sh ${pr_prepare} s + qemu \`disk_image\` build ${pr_packer} s (exit code $pr_rc) | ${pr_total} s | $((pr_size >> 20)) MiB qcow2 |
| Packer 1.6.6 qemu builder, Debian 12 netboot installer + preseed (exit code $packer_rc) | ${packer_t} s | $((packer_size >> 20)) MiB qcow2 |

mdxconf stages: $stages

Packer installer run's last lines:
$packer_tail

Commands:

    ${MDXCONF_BIN:-mdxconf} image build images/debian12-server.yaml --cache-dir \$CACHE --output-dir \$OUT --quiet   # twice
    benches/packer/rootfs_prepare.sh \$W \$W/build_key.pub && packer build \$W/debian12.json   # rootfs pipeline by hand
    packer build debian12.json   # installer: template and ISO generated by benches/image_bench.sh

Notes: mdxconf and the "rootfs pipeline by hand" row do the same work with the same inputs: mmdebstrap
on the host (root mode, same package list), the same files written into the tree, MBR + ext4 with
sfdisk and \`mkfs.ext4 -d\`, one emulated boot with -kernel/-initrd, GRUB installed from inside,
the build record's facts, the same generalization, qcow2 output. On the Packer side the host half is
a shell script the template maintainer has to write and keep in sync (Packer 1.6.6 has no rootfs
builder) and the guest half is a shell provisioner; mdxconf does it from images/debian12-server.yaml.
The installer row is Packer's native way to build Debian (debian-installer unpacks every package
inside the emulated guest, boot command typed over VNC); Packer 1.6.6 cannot boot -kernel/-initrd for
the installer (its reboot would start the installer again), hence the ISO made from the netboot files.
EOF
echo "results written to $out_md"
cat "$out_md"
