# Shared by the image benchmarks (sourced): timing helpers and a Packer run that an error or Ctrl-C
# cleans up (SIGINT lets Packer stop its QEMU and remove its output).
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

packer_pid=""
# bench_cleanup DIR: stop a running packer, then remove DIR
bench_cleanup() {
  if [ -n "$packer_pid" ] && kill -0 "$packer_pid" 2>/dev/null; then kill -INT "$packer_pid" 2>/dev/null || true; sleep 5; fi
  rm -rf "$1"
}

# run_packer TEMPLATE LOG: validate and build TEMPLATE; Packer's debug log goes to LOG.log, its output
# to LOG-stdout.log. Sets packer_rc (exit code) and packer_secs (wall time of the build).
run_packer() {
  local t0 t1
  packer validate "$1" >/dev/null
  t0=$(now)
  set +e
  PACKER_LOG=1 PACKER_LOG_PATH="$2.log" PACKER_CACHE_DIR="$(dirname "$2")/packer_cache" packer build -color=false "$1" > "$2-stdout.log" 2>&1 &
  packer_pid=$!
  wait "$packer_pid"; packer_rc=$?
  set -e
  packer_pid=""
  t1=$(now)
  packer_secs=$(secs "$t0" "$t1")
}
