#!/bin/bash
# Benchmark: `mdxconf export` vs the usual shell pipeline
#   qemu-img convert -O vmdk -o subformat=streamOptimized  +  sha256sum  +  tar
# on the same 4 GiB raw image: 2 GiB of data (1 GiB incompressible, 1 GiB base64 text) and 2 GiB of
# written zeros (allocated, not holes, so neither side gets a free ride from SEEK_HOLE).
#
# Usage: benches/ova_bench.sh [WORKDIR]   (env RUNS=N, default 3; needs hyperfine, qemu-img)
# Writes a markdown table to $WORKDIR/ova-bench.md and prints it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/var/tmp/mdxconf-ova-bench}
runs=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-ova}
mkdir -p "$work"
cd "$work"

(cd "$repo" && cargo build --release -q -p mdxconf)
mdxconf="$CARGO_TARGET_DIR/release/mdxconf"

src="$work/src.raw"
if [ ! -s "$src" ] || [ "$(stat -c %s "$src")" != $((4 << 30)) ]; then
  rm -f "$src"
  head -c 1G /dev/urandom > "$src"
  head -c 768M /dev/urandom | base64 -w 0 | head -c 1G >> "$src"
  head -c 2G /dev/zero >> "$src"
  sync
fi

# The baseline: what a shell script around qemu-img does to make an OVA.
cat > "$work/baseline.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
src=$1; out=$2; d=$(mktemp -d "$(dirname "$out")/baseline.XXXXXX")
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$src" "$d/bench-disk1.vmdk"
size=$(stat -c %s "$d/bench-disk1.vmdk")
cat > "$d/bench.ovf" <<OVF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References><File ovf:href="bench-disk1.vmdk" ovf:id="file1" ovf:size="$size"/></References>
  <DiskSection><Info>disks</Info><Disk ovf:capacity="$(stat -c %s "$src")" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/></DiskSection>
  <VirtualSystem ovf:id="bench"><Info>vm</Info></VirtualSystem>
</Envelope>
OVF
(cd "$d" && sha256sum bench.ovf bench-disk1.vmdk | sed -E 's/^([0-9a-f]+)  (.*)$/SHA256(\2)= \1/' > bench.mf)
tar -C "$d" -cf "$out" bench.ovf bench.mf bench-disk1.vmdk
rm -rf "$d"
EOF
chmod +x "$work/baseline.sh"

cat "$src" > /dev/null  # same page-cache state for every command
nproc_now=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine --runs "$runs" --export-markdown "$work/hyperfine.md" \
  -n "qemu-img convert + sha256sum + tar" "$work/baseline.sh $src $work/baseline.ova" \
  -n "mdxconf export (level 1, default)" "$mdxconf export --disk $src --name bench -o $work/mdxconf-l1.ova" \
  -n "mdxconf export --level 6 (qemu-img's zlib level)" "$mdxconf export --disk $src --name bench --level 6 -o $work/mdxconf-l6.ova"

"$mdxconf" ova verify "$work/mdxconf-l1.ova" > /dev/null
{
  echo "Machine: $nproc_now cores, load average before the run: $load; runs per command: $runs"
  echo
  cat "$work/hyperfine.md"
  echo
  echo "| output | bytes |"
  echo "| --- | --- |"
  for f in baseline.ova mdxconf-l1.ova mdxconf-l6.ova; do echo "| $f | $(stat -c %s "$work/$f") |"; done
} > "$work/ova-bench.md"
cat "$work/ova-bench.md"
