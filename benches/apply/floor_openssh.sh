#!/usr/bin/env bash
# The OpenSSH ControlMaster floor for the apply benchmark (benches/apply_bench.sh): per host one master
# connection (`ssh -M -N`, started first, FORKS at a time), then T `ssh -S SOCK host true` back to back per
# host, FORKS hosts at a time, then the masters are told to exit. Each command is a new `ssh` process on
# the controller (fork+exec, config parsing, a mux handshake over the control socket) and a new channel
# on the one connection per host: what Ansible's ssh plugin with ControlPersist pays per remote call,
# without Python.
#
# Usage: benches/apply/floor_openssh.sh INVENTORY_INI T [FORKS]    (FORKS default 50)
# Reads the inventory sshd_fleet writes (ansible_host/port/user/private key per host, UserKnownHostsFile
# in ansible_ssh_common_args). Prints one `key=value` line; exits 1 if a master or a command failed.
# The masters run in the foreground as this script's children (not `-f`), so a `/usr/bin/time` around
# this script counts their CPU too.
set -euo pipefail
inv=$1; t=$2; forks=${3:-50}
kh=$(grep -o 'UserKnownHostsFile=[^ "]*' "$inv" | head -1 | cut -d= -f2)
dir=$(mktemp -d /tmp/mdxfloor.XXXXXX)
# host lines: NAME ADDRESS PORT USER KEY
awk '!/^\[/ && !/^[#;]/ && NF && $1 !~ /=/ {
  a=""; p=""; u=""; k="";
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1]=="ansible_host") a=kv[2]; if (kv[1]=="ansible_port") p=kv[2];
    if (kv[1]=="ansible_user") u=kv[2]; if (kv[1]=="ansible_ssh_private_key_file") k=kv[2] }
  print $1, a, p, u, k }' "$inv" > "$dir/hosts"
n=$(wc -l < "$dir/hosts")
opts=(-F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
  -o ControlPersist=no -o ServerAliveInterval=0)
export dir t
pids=()
cleanup() {
  # SIGTERM: a master closes its connection and removes its socket
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

now() { date +%s.%N; }
# a sleep without a process per poll: read with a timeout on a pipe nobody writes to
exec {nap}<> <(:)
nap() { read -r -t 0.005 -u "$nap" _ || true; }
t0=$(now)
# phase 1: masters, FORKS connecting at a time; a master's control socket appears once it has authenticated
pending=()
while read -r name addr port user key; do
  ssh "${opts[@]}" -M -N -S "$dir/$name.sock" -i "$key" -p "$port" -l "$user" "$addr" 2>"$dir/$name.err" &
  pids+=("$!")
  pending+=("$name")
  if [ ${#pending[@]} -ge "$forks" ]; then
    for h in "${pending[@]}"; do until [ -S "$dir/$h.sock" ]; do
      [ -s "$dir/$h.err" ] && { echo "master for $h failed: $(cat "$dir/$h.err")" >&2; exit 1; }; nap; done; done
    pending=()
  fi
done < "$dir/hosts"
for h in "${pending[@]}"; do until [ -S "$dir/$h.sock" ]; do
  [ -s "$dir/$h.err" ] && { echo "master for $h failed: $(cat "$dir/$h.err")" >&2; exit 1; }; nap; done; done
t1=$(now)

# phase 2: T commands per host through its master, FORKS hosts at a time
cut -d' ' -f1 "$dir/hosts" | xargs -P "$forks" -I{} bash -c '
  bad=0
  for _ in $(seq 1 "$t"); do ssh -F /dev/null -o ControlMaster=no -S "$dir/$1.sock" x true || bad=$((bad+1)); done
  echo "$bad" > "$dir/$1.bad"' _ {}
t2=$(now)
bad=$(cat "$dir"/*.bad | awk '{s+=$1} END {print s+0}')
done_hosts=$(ls "$dir"/*.bad | wc -l)
awk -v n="$n" -v t="$t" -v f="$forks" -v a="$t0" -v b="$t1" -v c="$t2" -v bad="$bad" -v d="$done_hosts" 'BEGIN {
  printf "floor_openssh hosts=%d t=%d forks=%d execs=%d connect_s=%.3f exec_s=%.3f total_s=%.3f failed=%d\n", n, t, f, d*t-bad, b-a, c-b, c-a, bad + (n-d)*t }'
[ "$bad" -eq 0 ] && [ "$done_hosts" -eq "$n" ]
