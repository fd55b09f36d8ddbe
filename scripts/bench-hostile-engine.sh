#!/usr/bin/env bash
# A hostile engine's answers against `shipshape scan` (issue 39, D5 and D6):
# time, peak memory and exit code for each mode of scripts/hostile-engine.py,
# beside the figures of the hostile-input report of 2026-12-07 (before the
# bounded client). Writes bench/hostile-engine-results.md.
#
#   scripts/bench-hostile-engine.sh            (builds and uses the release binary)
#   SHIPSHAPE_BIN=target/debug/shipshape scripts/bench-hostile-engine.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SHIPSHAPE_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -q
  bin=target/release/shipshape
fi
bin=$(realpath "$bin")
tmp=$(mktemp -d)
fpid=
cleanup() {
  [ -n "$fpid" ] && kill "$fpid" 2>/dev/null && wait "$fpid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
declare -A before=(
  [hugeinfo]="rc=3 after 3.7 s, 2,033,640 KB"
  [hugeinfo_chunked]="(not measured)"
  [endless]="rc=3, 282,576 KB after 256 MB sent (grows with what is sent)"
  [huge_list]="rc=124 at 120 s, 967,384 KB, no report"
  [drip]="rc=124 at 90 s, and again after 400 s"
)
out=bench/hostile-engine-results.md
{
  echo "# A hostile engine against \`shipshape scan\`"
  echo
  echo "\`scripts/bench-hostile-engine.sh\`, $(date -u +%Y-%m-%d), binary \`${bin#"$PWD"/}\`,"
  echo "$(nproc) cores. \`scan -q --no-vulns --no-drift --host unix://<fake>\`; the fake engine"
  echo "(\`scripts/hostile-engine.py\`) forwards to the real one except the path it rewrites."
  echo
  echo "| mode | before (report of 2026-12-07, release) | now: exit, time, peak RSS | what shipshape said |"
  echo "|---|---|---|---|"
} > "$out"
for mode in ${MODES:-hugeinfo hugeinfo_chunked endless huge_list drip}; do
  sock=$tmp/$mode.sock
  python3 scripts/hostile-engine.py "$mode" "$sock" & fpid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  set +e
  /usr/bin/time -f "%e %M" -o "$tmp/time" timeout 300 "$bin" --no-audit scan -q --no-vulns \
    --no-drift --host "unix://$sock" --format json -o "$tmp/$mode.json" 2> "$tmp/err"
  rc=$?
  set -e
  kill "$fpid" 2>/dev/null; wait "$fpid" 2>/dev/null || true; fpid=
  read -r secs kb < <(tail -1 "$tmp/time")
  said=$( (grep -v '^Command exited' "$tmp/err" || true) | head -1 | sed 's/|/\\|/g')
  if [ -z "$said" ] && [ -f "$tmp/$mode.json" ]; then
    said="report written; $(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(next((w for w in r['warnings'] if 'more than' in w), 'no cut'))" "$tmp/$mode.json")"
  fi
  echo "| $mode | ${before[$mode]} | rc=$rc, $secs s, $kb KB | $said |" >> "$out"
done
cat "$out"
