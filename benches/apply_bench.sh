#!/usr/bin/env bash
# apply benchmark: mdxconf vs ansible-playbook (Debian's ansible) vs pyinfra (PyPI, pinned in
# scripts/bootstrap.sh) on a fleet of real sshd processes on 127.0.0.x, running the same ~10-task role
# (benches/apply/; pyinfra's version in benches/apply/pyinfra/): a first run that changes everything, then
# no-change runs. All tools: forks/parallel 50, no fact gathering, strict host keys from the fleet's
# known_hosts; ansible with pipelining=True (benches/apply/ansible.cfg).
#
# In the same run, per fleet size, two floors: the same fleet and the same number of remote round trips
# per host as mdxconf's no-change run (T, counted from the fleet's sshd logs: every sshd runs with
# LogLevel VERBOSE, which logs one "Starting session:" line per exec or subsystem request), done the
# cheapest way:
#   floor-russh    crates/engine/examples/ssh_floor.rs: mdxconf-transport's russh connection, one per
#                  host, T `true` back to back on channels, 50 hosts at once (connect and commands timed
#                  separately)
#   floor-openssh  benches/apply/floor_openssh.sh: one OpenSSH ControlMaster per host started first,
#                  then T `ssh -S sock host true` back to back per host, 50 hosts at once
#   floor-replay   ssh_floor again, but each host runs the T commands mdxconf's no-change run really
#                  sent (captured from host1's sshd with strace during one extra, unmeasured mdxconf run;
#                  needs strace and python3): the same round trips and the same remote work, without
#                  the engine. floor-replay − floor-russh = what the remote commands cost; mdxconf −
#                  floor-replay = what mdxconf's engine adds (executor, modules, templating, barrier).
# Every run's remote execs are counted the same way, for every tool, so the table shows how many round
# trips each tool needs for the same role.
#
# Usage: benches/apply_bench.sh [SIZES...]          default: 10 100 500
# Env:   MDXCONF_BIN   mdxconf binary taking `apply` args; default: the release `mdxconf-apply` built
#                      here (crates/engine/src/bin: the same cli::run_apply as `mdxconf apply`)
#        RUNS          no-change repetitions for mdxconf and the floors (default 3; medians reported)
#        TOOLS         which to run (default "mdxconf floor-russh floor-replay floor-openssh ansible
#                      pyinfra"); the floors need mdxconf's count of round trips, or FLOOR_T (and
#                      floor-replay needs mdxconf)
#        FLOOR_T       round trips per host for the floors (default: counted from mdxconf's no-change run)
#        ANSIBLE_RUNS  no-change repetitions for ansible (default 1)
#        ANSIBLE_CAP   seconds before an ansible-playbook run is killed (default 1800)
#        SKIP_ANSIBLE_ABOVE  do not run ansible above this host count (default: never skip)
#        PYINFRA       pyinfra executable (default /var/tmp/mdxconf-pytools/bin/pyinfra, from bootstrap.sh)
#        PYINFRA_RUNS  no-change repetitions for pyinfra (default: RUNS)
#        PYINFRA_CAP   seconds before a pyinfra run is killed (default 1800)
#        SKIP_PYINFRA_ABOVE  do not run pyinfra above this host count (default: never skip)
#        TASKS         tasks per host for the "ms per host·task" column (default 10: the role's tasks)
#        NO_BUILD=1    use the already built release binaries
# Prints a markdown table per size; every run goes to benches/results/apply_runs.tsv (the older
# benches/results/apply_raw.tsv keeps the 2026-11-25 runs in its narrower format).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(10 100 500)
runs=${RUNS:-3}
tools=${TOOLS:-mdxconf floor-russh floor-replay floor-openssh ansible pyinfra}
cap=${ANSIBLE_CAP:-1800}
skip_above=${SKIP_ANSIBLE_ABOVE:-999999}
pyinfra=${PYINFRA:-/var/tmp/mdxconf-pytools/bin/pyinfra}
py_runs=${PYINFRA_RUNS:-$runs}
py_cap=${PYINFRA_CAP:-1800}
py_skip_above=${SKIP_PYINFRA_ABOVE:-999999}
tasks=${TASKS:-10}
forks=50
target=${CARGO_TARGET_DIR:-$here/target}
[ -n "${NO_BUILD:-}" ] || (cd "$here" && cargo build -q --release -p mdxconf-engine --bin mdxconf-apply --example sshd_fleet --example ssh_floor)
fleet_bin=$target/release/examples/sshd_fleet
floor_bin=$target/release/examples/ssh_floor
if [ -n "${MDXCONF_BIN:-}" ]; then mdx=("$MDXCONF_BIN" apply); else mdx=("$target/release/mdxconf-apply"); fi
pb=$here/benches/apply/site.yml
raw=$here/benches/results/apply_runs.tsv
mkdir -p "$here/benches/results"
[ -f "$raw" ] || printf 'date\thosts\ttool\trun\twall_s\tuser_s\tsys_s\tmaxrss_kib\trc\tchanged\texecs\texecs_min_host\texecs_max_host\tconnect_s\tcommands_s\tload1\n' > "$raw"
has() { [[ " $tools " == *" $1 "* ]]; }

fleet_pid=""; work=""
cleanup() {
  if [ -n "$fleet_pid" ]; then kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; fi
  if [ -n "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# exec_counts: "hostN COUNT" per host, the "Starting session:" lines in its sshd log so far
exec_counts() { { grep -c 'Starting session:' "$fleet_dir"/host*.log || true; } | sed 's|.*/||; s|\.log:| |' | sort; }

# measure LABEL CMD...: sets wall, user, sys, rss, rc, execs (all hosts), emin/emax (per host), and
# connect_s/commands_s when the command prints them (the floors)
measure() {
  local label=$1; shift
  exec_counts > "$work/before"
  set +e
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" > "$work/$label.out" 2>&1
  rc=$?
  set -e
  exec_counts > "$work/after"
  read -r wall rss user sys < <(tail -1 "$work/time")
  read -r execs emin emax < <(join "$work/before" "$work/after" | awk '{d=$3-$2; s+=d; if (NR==1||d<mn) mn=d; if (d>mx) mx=d} END {print s+0, mn+0, mx+0}')
  connect_s=$(grep -oE 'connect_s=[0-9.]+' "$work/$label.out" | cut -d= -f2 || true)
  commands_s=$(grep -oE 'exec_s=[0-9.]+' "$work/$label.out" | cut -d= -f2 || true)
}
# changed_of LABEL TOOL: changes reported by the run (PLAY RECAP changed= for mdxconf and ansible; the
# Success column of pyinfra's results table, without the python.call row it always counts as Success)
changed_of() {
  case $2 in
    mdxconf|ansible) grep -oE 'changed=[0-9]+' "$work/$1.out" | cut -d= -f2 | awk '{s+=$1} END {print s+0}' ;;
    pyinfra) awk '/--> Results:/ {r=1; next} r && NF >= 5 && $1 != "Operation" && $1 != "Grand" && !/motd exists/ {
        v=$(NF-2); if (v != "-") s+=v } END {print s+0}' "$work/$1.out" ;;
    *) echo "" ;;
  esac
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# record TOOL RUNLABEL: one tsv row for the last measure
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$n" "$1" "$2" "$wall" "$user" "$sys" "$rss" \
    "$rc" "$changed" "$execs" "$emin" "$emax" "${connect_s:-}" "${commands_s:-}" "$(cut -d' ' -f1 /proc/loadavg)" >> "$raw"
}

# Results per size, keyed "tool/kind" (kind: first, again): medians over the repetitions.
declare -A R_wall R_cpu R_rss R_execs R_changed R_note R_conn R_cmds
# run_tool TOOL NRUNS CMD...: a first run (not for the floors), then NRUNS no-change runs
run_tool() {
  local tool=$1 nruns=$2; shift 2
  local kinds=(first again) k r label walls cpus rsses conns cmdss note=""
  case $tool in floor-*) kinds=(again) ;; esac
  for k in "${kinds[@]}"; do
    local reps=1; [ "$k" = again ] && reps=$nruns
    walls=(); cpus=(); rsses=(); conns=(); cmdss=()
    for r in $(seq 1 "$reps"); do
      measure "$tool-$k$r" "$@"
      changed=$(changed_of "$tool-$k$r" "$tool")
      case $tool/$k in */first) label=first ;; floor-*) label=floor$r ;; *) label=nochange$r ;; esac
      record "$tool" "$label"
      walls+=("$wall"); cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u+s}')"); rsses+=("$rss")
      [ -n "$connect_s" ] && conns+=("$connect_s") && cmdss+=("$commands_s")
      [ "$rc" -ne 0 ] && note="$note $k rc=$rc"
      # every host got the same number of round trips (a host that did less did not do the work)
      [ "$emin" -ne "$emax" ] && note="$note $k: execs per host $emin..$emax"
      case $tool in floor-*) [ "$emin" -ne "$floor_t" ] && note="$note floor ran $emin..$emax execs per host, not $floor_t" ;; esac
    done
    R_wall[$tool/$k]=$(printf '%s\n' "${walls[@]}" | median)
    R_cpu[$tool/$k]=$(printf '%s\n' "${cpus[@]}" | median)
    R_rss[$tool/$k]=$(printf '%s\n' "${rsses[@]}" | sort -n | tail -1)
    R_execs[$tool/$k]=$emax  # per host (the same on every host, or the note says otherwise)
    R_changed[$tool/$k]=$changed
    R_conn[$tool/$k]=""; R_cmds[$tool/$k]=""
    if [ ${#conns[@]} -gt 0 ]; then
      R_conn[$tool/$k]=$(printf '%s\n' "${conns[@]}" | median); R_cmds[$tool/$k]=$(printf '%s\n' "${cmdss[@]}" | median)
    fi
    R_note[$tool/$k]="${note# }"
    [ "$k" = again ] && R_note[$tool/$k]="${R_note[$tool/$k]}${R_note[$tool/$k]:+; }median of $reps"
    note=""
  done
}

# capture_replay: one more mdxconf no-change run (not measured) with strace on host1's sshd; sets ncmd and
# writes the commands host1's shell ran to $work/commands (NUL-separated, {host} for the host's name)
capture_replay() {
  local lpid spid
  lpid=$(pgrep -o -f -- "-f $fleet_dir/host1\.sshd_config")
  strace -f -s 100000 -e trace=execve -o "$work/capture.strace" -p "$lpid" 2> "$work/strace.err" &
  spid=$!
  for _ in $(seq 1 200); do grep -q attached "$work/strace.err" 2>/dev/null && break; sleep 0.05; done
  "${mdx[@]}" "$pb" -i "$work/inventory.ini" -f "$forks" -e "bench_root=$work/root/mdx" > "$work/capture.out" 2>&1 || true
  kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
  ncmd=$(python3 "$here/benches/apply/capture_commands.py" "$work/capture.strace" "$work/root/mdx/host1" "$work/commands")
}

for n in "${sizes[@]}"; do
  work=$(mktemp -d /tmp/mdxbench.XXXXXX)
  R_wall=(); R_cpu=(); R_rss=(); R_execs=(); R_changed=(); R_note=(); R_conn=(); R_cmds=()
  FLEET_SSHD_LOG_LEVEL=VERBOSE "$fleet_bin" "$n" "$work/inventory.ini" "$work/root" > "$work/fleet.log" 2>&1 &
  fleet_pid=$!
  for _ in $(seq 1 600); do grep -q READY "$work/fleet.log" 2>/dev/null && break; sleep 0.5; done
  grep -q READY "$work/fleet.log" || { echo "fleet of $n did not start"; cat "$work/fleet.log"; exit 1; }
  fleet_dir=$(sed -n 's/^READY.* fleet dir //p' "$work/fleet.log")
  order=()

  floor_t=${FLOOR_T:-}
  if has mdxconf; then
    run_tool mdxconf "$runs" "${mdx[@]}" "$pb" -i "$work/inventory.ini" -f "$forks" -e "bench_root=$work/root/mdx"
    order+=(mdxconf/first mdxconf/again)
    [ -n "$floor_t" ] || floor_t=${R_execs[mdxconf/again]}
  fi
  if [ -n "$floor_t" ]; then
    if has floor-russh; then run_tool floor-russh "$runs" "$floor_bin" "$work/inventory.ini" "$floor_t" "$forks"; order+=(floor-russh/again); fi
    if has floor-replay && has mdxconf; then
      if ! command -v strace >/dev/null || ! command -v python3 >/dev/null; then
        R_note[floor-replay/again]="needs strace and python3"; order+=(floor-replay/again)
      else
        capture_replay
        if [ "$ncmd" -eq "$floor_t" ]; then
          run_tool floor-replay "$runs" "$floor_bin" "$work/inventory.ini" "$floor_t" "$forks" "@$work/commands"
        else
          R_note[floor-replay/again]="captured $ncmd commands from host1, not $floor_t"
        fi
        order+=(floor-replay/again)
      fi
    fi
    if has floor-openssh; then run_tool floor-openssh "$runs" "$here/benches/apply/floor_openssh.sh" "$work/inventory.ini" "$floor_t" "$forks"; order+=(floor-openssh/again); fi
  elif has floor-russh || has floor-openssh; then
    echo "(floors skipped: no round-trip count; run mdxconf too or set FLOOR_T)"
  fi
  if has ansible; then
    if [ "$n" -gt "$skip_above" ]; then R_note[ansible/first]=skipped; order+=(ansible/first)
    else
      run_tool ansible "${ANSIBLE_RUNS:-1}" env ANSIBLE_CONFIG="$here/benches/apply/ansible.cfg" timeout "$cap" \
        ansible-playbook -i "$work/inventory.ini" -f "$forks" -e "bench_root=$work/root/ansible" "$pb"
      order+=(ansible/first ansible/again)
    fi
  fi
  if has pyinfra; then
    if [ "$n" -gt "$py_skip_above" ]; then R_note[pyinfra/first]=skipped; order+=(pyinfra/first)
    elif [ ! -x "$pyinfra" ]; then R_note[pyinfra/first]="not installed ($pyinfra; scripts/bootstrap.sh)"; order+=(pyinfra/first)
    else
      run_tool pyinfra "$py_runs" env BENCH_INVENTORY="$work/inventory.ini" timeout "$py_cap" "$pyinfra" -y --parallel "$forks" \
        --data "bench_root=$work/root/pyinfra" "$here/benches/apply/pyinfra/inventory.py" "$here/benches/apply/pyinfra/deploy.py"
      order+=(pyinfra/first pyinfra/again)
    fi
  fi

  # the table for this size: ratios against the russh floor and against ansible-playbook's same kind of run
  echo
  echo "$n hosts, $tasks tasks per host, forks $forks; floor: ${floor_t:-?} round trips per host (mdxconf's no-change run)"
  echo
  echo "| hosts | tool | run | wall s | controller CPU s (user+sys) | peak RSS MiB | ms per host·task | remote execs per host | changed | × floor (russh) | ansible ÷ this | floor connect / commands s | notes |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  floor_wall=${R_wall[floor-russh/again]:-}
  for key in "${order[@]}"; do
    tool=${key%/*}; k=${key#*/}
    kind=$([ "$k" = first ] && echo first || echo no-change); case $tool in floor-*) kind=floor ;; esac
    if [ -z "${R_wall[$key]:-}" ]; then echo "| $n | $tool | | | | | | | | | | | ${R_note[$key]:-} |"; continue; fi
    w=${R_wall[$key]}
    ans=${R_wall[ansible/$k]:-}
    awk -v n="$n" -v tool="$tool" -v kind="$kind" -v w="$w" -v cpu="${R_cpu[$key]}" -v rss="${R_rss[$key]}" -v t="$tasks" \
      -v ex="${R_execs[$key]}" -v ch="${R_changed[$key]}" -v fl="$floor_wall" -v an="$ans" \
      -v conn="${R_conn[$key]}" -v cmds="${R_cmds[$key]}" -v note="${R_note[$key]}" 'BEGIN {
        xf = (fl != "" && fl > 0) ? sprintf("%.1f", w / fl) : "";
        xa = (an != "" && w > 0) ? sprintf("%.1f", an / w) : "";
        cc = (conn != "") ? sprintf("%s / %s", conn, cmds) : "";
        printf "| %d | %s | %s | %.2f | %s | %.1f | %.2f | %d | %s | %s | %s | %s | %s |\n", n, tool, kind, w, cpu, rss / 1024,
          w * 1000 / (n * t), ex, ch, xf, xa, cc, note }'
  done
  kill "$fleet_pid" 2>/dev/null || true; wait "$fleet_pid" 2>/dev/null || true; fleet_pid=""
  rm -rf "$work"; work=""
done
