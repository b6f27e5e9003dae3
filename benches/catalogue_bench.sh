#!/usr/bin/env bash
# Catalogue rebuild benchmark (issue 17): debian12-server plus two overlays (one installs nfs-common,
# one on top of it installs jq), built as one catalogue with `mdxconf image build`:
#
#   direct     empty image cache, --package-cache off: every package downloaded by each build (baseline)
#   cold       empty image cache, empty package cache (apt-cacher-ng started by mdxconf)
#   warm       empty image cache, the package cache the cold run filled: everything is rebuilt, as a
#              refresh after a kernel update rebuilds everything
#   unchanged  `--refresh` on both warm caches with nothing changed upstream: cache hits
#
# Reports wall time and bytes: downloaded from the archive (the cache's upstream bytes; for `direct`,
# what the same builds made the cold cache fetch, since without a proxy nothing counts them) and
# handed to apt. Run it on a quiet machine (no other builds or VMs): it is TCG-bound.
# Usage: benches/catalogue_bench.sh [RESULTS_MD]   (MDXCONF_BIN=path to skip the cargo build;
#        PARTS="direct cold warm unchanged" to choose)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out_md=${1:-$here/benches/results/catalogue.md}
. "$here/benches/lib.sh"
work=$(mktemp -d /var/tmp/mdxconf-catalogue-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
bin=${MDXCONF_BIN:-}
if [ -z "$bin" ]; then
  (cd "$here" && cargo build -q --profile ci -p mdxconf-image --bin mdxconf-image)
  bin="${CARGO_TARGET_DIR:-$here/target}/ci/mdxconf-image"
fi
parts=${PARTS:-direct cold warm unchanged}
cat_dir=$work/catalogue
mkdir -p "$cat_dir/roles/nfs/tasks" "$cat_dir/roles/jq/tasks"
cp "$here/images/debian12-server.yaml" "$cat_dir/"
printf -- '- name: NFS client\n  apt: {name: nfs-common, update_cache: true}\n' > "$cat_dir/roles/nfs/tasks/main.yml"
printf -- '- name: jq\n  apt: {name: jq, update_cache: true}\n' > "$cat_dir/roles/jq/tasks/main.yml"
printf 'name: bench-nfs\nbase: debian12-server\nroles: [nfs]\noutputs: [qcow2]\n' > "$cat_dir/bench-nfs.yaml"
printf 'name: bench-jq\nbase: bench-nfs\nroles: [jq]\noutputs: [qcow2]\n' > "$cat_dir/bench-jq.yaml"
pkgs=$work/packages

# run NAME CACHE_DIR EXTRA...: one catalogue build; appends a result row
rows=()
run() {
  local name=$1 cache=$2; shift 2
  echo "== $name"
  local t0 t1
  t0=$(now)
  "$bin" image build "$cat_dir/debian12-server.yaml" "$cat_dir/bench-nfs.yaml" "$cat_dir/bench-jq.yaml" \
    --roles-path "$cat_dir/roles" --cache-dir "$cache" --output-dir "$work/out" --package-cache-dir "$pkgs" \
    --quiet --format json "$@" > "$work/$name.json"
  t1=$(now)
  python3 - "$work/$name.json" "$name" "$(secs "$t0" "$t1")" >> "$work/rows" <<'PY'
import json, sys
doc, name, wall = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
pc = doc.get("package_cache") or {}
st = ", ".join(f'{i["name"]} {i["status"]} {i["seconds"]:.0f}s' for i in doc["images"])
mib = lambda k: f'{pc[k] / 2**20:.1f}' if k in pc else "n/a"
print(f'| {name} | {wall} | {mib("upstream_bytes")} | {mib("served_bytes")} | {pc.get("requests", "n/a")} | {st} |')
PY
  tail -1 "$work/rows"
}
for p in $parts; do
  case $p in
    direct) run direct "$work/cache-direct" --package-cache off ;;
    cold) rm -rf "$pkgs"; run cold "$work/cache-cold" --package-cache on ;;
    warm) run warm "$work/cache-warm" --package-cache on ;;
    unchanged) run unchanged "$work/cache-warm" --package-cache on --refresh ;;
  esac
done
load=$(cut -d' ' -f1-3 /proc/loadavg)
{
  echo "Catalogue rebuild (debian12-server + bench-nfs + bench-jq), $(date -u +%F), $(nproc) cores, load after: $load, accel: $(python3 -c 'import json,glob; print(json.load(open(sorted(glob.glob("'"$work"'/cache-*/images/debian12-server/*/record.json"))[0]))["accel"])' 2>/dev/null || echo '?')"
  echo
  echo "| run | wall s | downloaded MiB | served to apt MiB | files | images |"
  echo "|---|---|---|---|---|---|"
  cat "$work/rows"
} | tee "$out_md"
