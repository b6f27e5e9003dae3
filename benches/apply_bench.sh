#!/usr/bin/env bash
# apply benchmark: mdxconf vs ansible-playbook (Debian's ansible) on a fleet of real sshd processes
# on 127.0.0.x, running the same ~10-task role (benches/apply/): a first run that changes everything,
# then no-change runs. Both tools: forks 50, no fact gathering, strict host keys from the fleet's
# known_hosts; ansible with pipelining=True (benches/apply/ansible.cfg).
#
# Usage: benches/apply_bench.sh [SIZES...]          default: 10 100 500
# Env:   MDXCONF_BIN   mdxconf binary taking `apply` args; default: the release `mdxconf-apply` built
#                      here (crates/engine/src/bin: the same cli::run_apply as `mdxconf apply`)
#        RUNS          no-change repetitions per tool (default 3; the median is reported)
#        ANSIBLE_CAP   seconds before an ansible-playbook run is killed (default 1800)
#        SKIP_ANSIBLE_ABOVE  do not run ansible above this host count (default: never skip)
#        NO_BUILD=1    use the already built release binaries
# Prints a markdown table; raw numbers go to benches/results/apply_raw.tsv.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(10 100 500)
runs=${RUNS:-3}
cap=${ANSIBLE_CAP:-1800}
skip_above=${SKIP_ANSIBLE_ABOVE:-999999}
target=${CARGO_TARGET_DIR:-$here/target}
[ -n "${NO_BUILD:-}" ] || (cd "$here" && cargo build -q --release -p mdxconf-engine --bin mdxconf-apply --example sshd_fleet)
fleet_bin=$target/release/examples/sshd_fleet
if [ -n "${MDXCONF_BIN:-}" ]; then mdx=("$MDXCONF_BIN" apply); else mdx=("$target/release/mdxconf-apply"); fi
pb=$here/benches/apply/site.yml
raw=$here/benches/results/apply_raw.tsv
mkdir -p "$here/benches/results"
[ -f "$raw" ] || printf 'date\thosts\ttool\trun\twall_s\tmaxrss_kib\trc\tchanged\n' > "$raw"

fleet_pid=""; work=""
cleanup() {
  if [ -n "$fleet_pid" ]; then kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; fi
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# measure LABEL CMD...: sets wall, rss, rc, changed (sum of changed= in the recap)
measure() {
  local label=$1; shift
  set +e
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/$label.out" 2>&1
  rc=$?
  set -e
  read -r wall rss < <(tail -1 "$work/time")
  changed=$(grep -oE 'changed=[0-9]+' "$work/$label.out" | cut -d= -f2 | awk '{s+=$1} END {print s+0}')
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "| hosts | tool | first run (changes) s | no-change run s (median of $runs) | changed first/second | peak RSS first/no-change MiB |"
echo "|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
  work=$(mktemp -d /tmp/mdxbench.XXXXXX)
  "$fleet_bin" "$n" "$work/inventory.ini" "$work/root" > "$work/fleet.log" 2>&1 &
  fleet_pid=$!
  for _ in $(seq 1 600); do grep -q READY "$work/fleet.log" 2>/dev/null && break; sleep 0.5; done
  grep -q READY "$work/fleet.log" || { echo "fleet of $n did not start"; cat "$work/fleet.log"; exit 1; }

  for tool in mdxconf ansible; do
    if [ "$tool" = ansible ] && [ "$n" -gt "$skip_above" ]; then
      echo "| $n | ansible-playbook | skipped | skipped | | |"; continue
    fi
    if [ "$tool" = mdxconf ]; then
      cmd=("${mdx[@]}" "$pb" -i "$work/inventory.ini" -f 50 -e "bench_root=$work/root/mdx")
      name=mdxconf; nruns=$runs
    else
      cmd=(env ANSIBLE_CONFIG="$here/benches/apply/ansible.cfg" timeout "$cap" ansible-playbook -i "$work/inventory.ini" -f 50 -e "bench_root=$work/root/ansible" "$pb")
      name=ansible-playbook; nruns=${ANSIBLE_RUNS:-1}
    fi
    measure "$tool-first" "${cmd[@]}"
    first_wall=$wall; first_rss=$rss; first_changed=$changed; first_rc=$rc
    printf '%s\t%s\t%s\tfirst\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$n" "$tool" "$wall" "$rss" "$rc" "$changed" >> "$raw"
    walls=(); second_changed=""; second_rss=0; second_rc=0
    for r in $(seq 1 "$nruns"); do
      measure "$tool-again$r" "${cmd[@]}"
      walls+=("$wall"); second_changed=$changed; [ "$rss" -gt "$second_rss" ] && second_rss=$rss; [ "$rc" -ne 0 ] && second_rc=$rc
      printf '%s\t%s\t%s\tnochange%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$n" "$tool" "$r" "$wall" "$rss" "$rc" "$changed" >> "$raw"
    done
    med=$(printf '%s\n' "${walls[@]}" | median)
    note=""; [ "$first_rc" -ne 0 ] && note=" (first rc=$first_rc)"; [ "$second_rc" -ne 0 ] && note="$note (no-change rc=$second_rc)"
    printf '| %s | %s | %s | %s | %s/%s | %s/%s |%s\n' "$n" "$name" "$first_wall" "$med" "$first_changed" "$second_changed" \
      "$(awk -v k="$first_rss" 'BEGIN {printf "%.1f", k/1024}')" "$(awk -v k="$second_rss" 'BEGIN {printf "%.1f", k/1024}')" "$note"
  done
  kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; fleet_pid=""
  rm -rf "$work"; work=""
done
