#!/usr/bin/env bash
# An event flood against `shipshape watch --audit-log` (issue 39, D10):
# scripts/flood-events.py answers `/events` with exec_start events as fast
# as the watcher reads them (every other request goes to the real engine).
# For each binary and case: events the watcher read, bytes it wrote to
# disk, the log's files and size at the end, peak RSS, the time from
# SIGINT to exit, and `audit verify`.
#
#   scripts/bench-audit-flood.sh [SECONDS] [BIN...]
#
# Default: 25 s, target/release/shipshape (built if missing). Give several
# binaries to compare (an older build first); an older build without
# --audit-keep runs the retention case with its own (no) retention.
# Writes bench/audit-flood-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-25}
shift || true
bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
  [ -x target/release/shipshape ] || cargo build --release -q
  bins=("$PWD/target/release/shipshape")
fi
tmp=$(mktemp -d)
fpid=""
wpid=""
cleanup() {
  [ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
  [ -n "$fpid" ] && kill "$fpid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# name, binary, flood mode, then watch's extra arguments ("LOG" stands for
# this run's audit log)
run() {
  local name=$1 bin=$2 mode=$3; shift 3
  local d="$tmp/run-$RANDOM"
  mkdir -p "$d"
  local args=()
  for a in "$@"; do [ "$a" = LOG ] && args+=("$d/log/audit.jsonl") || args+=("$a"); done
  python3 scripts/flood-events.py "$d/e.sock" --mode "$mode" --count-file "$d/count" &
  fpid=$!
  for _ in $(seq 1 50); do [ -S "$d/e.sock" ] && break; sleep 0.1; done
  SHIPSHAPE_VULNDB="$d/vulndb" "$bin" watch --no-drift --poll 60 --host "unix://$d/e.sock" "${args[@]}" \
    >/dev/null 2>"$d/err" &
  wpid=$!
  sleep "$secs"
  local written rss t0 t1 hwm=0 h
  written=$(awk '/^write_bytes/ {print $2}' "/proc/$wpid/io")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$wpid/status")
  t0=$(date +%s.%N)
  kill -INT "$wpid"
  while kill -0 "$wpid" 2>/dev/null; do
    h=$(awk '/VmHWM/ {print $2}' "/proc/$wpid/status" 2>/dev/null || echo 0)
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    sleep 0.02
  done
  t1=$(date +%s.%N)
  wait "$wpid" 2>/dev/null || true
  wpid=""
  kill "$fpid" 2>/dev/null || true
  wait "$fpid" 2>/dev/null || true
  fpid=""
  local sent files kept verify summaries
  sent=$(cat "$d/count" 2>/dev/null || echo 0)
  if [ -d "$d/log" ]; then
    files=$(find "$d/log" -name '*.jsonl' | wc -l)
    kept=$(find "$d/log" -name '*.jsonl' -printf '%s\n' | paste -sd+ | bc)
    summaries=$(cat "$d"/log/*.jsonl | grep -c '"kind":"summary"' || true)
    if "$bin" audit verify "$d/log/audit.jsonl" >"$d/verify" 2>&1; then
      verify="intact ($(grep -o '[0-9]* records' "$d/verify" | head -1))"
    else
      verify="FAILED: $(head -c 120 "$d/verify")"
    fi
  else
    files=0 kept=0 summaries=0 verify="—"
  fi
  printf '| %s | %s | %s | %.0f | %.2f | %s | %.2f | %.1f | %.2f | %s | %s |\n' \
    "$name" "$(basename "$bin")" "$sent" \
    "$(echo "$sent / $secs" | bc -l)" "$(echo "${written:-0} / 1048576" | bc -l)" "$files" \
    "$(echo "${kept:-0} / 1048576" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" \
    "$(echo "$t1 - $t0" | bc -l)" "$summaries" "$verify"
}

{
  echo "# Event flood against the audit log: \`scripts/bench-audit-flood.sh $secs\`"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start."
  echo "\`shipshape watch --no-drift\` against \`scripts/flood-events.py\` for $secs s, then SIGINT."
  echo "one: every event an exec_start in one container (D10); mixed: half of them each in a"
  echo "container of its own with a 1.5 KB command line (no two alike). written: bytes the"
  echo "watcher wrote to disk (/proc/PID/io write_bytes at SIGINT); kept: the log's files at the end."
  echo
  echo "| case | binary | events read | per s | written (MiB) | files | kept (MiB) | peak RSS (MiB) | stop (s) | summaries | audit verify |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for bin in "${bins[@]}"; do
    run "one, --no-audit" "$bin" one --no-audit
    run "one, --audit-log" "$bin" one --audit-log LOG
    run "mixed, --no-audit" "$bin" mixed --no-audit
    if "$bin" --help 2>/dev/null | grep -q -- --audit-keep; then
      run "mixed, --audit-keep 4" "$bin" mixed --audit-keep 4 --audit-log LOG
    else
      run "mixed, --audit-log" "$bin" mixed --audit-log LOG
    fi
  done
} | tee bench/audit-flood-results.md
