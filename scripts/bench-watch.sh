#!/usr/bin/env bash
# Benchmark the watcher against a real engine:
#
#  1. capture latency: `shipshape watch` runs while short-lived containers
#     (`docker run --rm … true`, ~0.2 s each) come and go; for each, the time
#     from the engine's `create` event to the `assessed` record (inspected,
#     scored, written) in the audit log;
#  2. drift cost: `shipshape scan` with and without the drift check over N
#     running containers, each with a few changed files (hyperfine).
#
#   scripts/bench-watch.sh            # 30 short-lived containers, N = 50
#   scripts/bench-watch.sh 60 100
#
# Removes everything it creates. Results also go to bench/watch-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SHORT=${1:-30}
RUNNING=${2:-50}

./scripts/engine-up.sh
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
if [ -z "${SHIPSHAPE_BIN:-}" ]; then
  cargo build --release --quiet
  SHIPSHAPE_BIN=$PWD/target/release/shipshape
fi
BIN=$SHIPSHAPE_BIN
PREFIX="sswatch-$$"
OUT=$(mktemp -d)
WATCH_PID=
cleanup() {
  [ -n "$WATCH_PID" ] && kill -INT "$WATCH_PID" 2>/dev/null || true
  docker ps -aq --filter "name=^${PREFIX}-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

# --- 1. capture latency ------------------------------------------------------
"$BIN" watch --no-drift --audit-log "$OUT/audit.jsonl" >/dev/null 2>"$OUT/watch.err" &
WATCH_PID=$!
for _ in $(seq 1 100); do grep -q '"kind":"scan"' "$OUT/audit.jsonl" 2>/dev/null && break; sleep 0.1; done
for i in $(seq 1 "$SHORT"); do
  docker run --rm --name "${PREFIX}-s$i" shipshape-test/base:1 true
done
sleep 3
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || true; WATCH_PID=
latency=$(python3 - "$OUT/audit.jsonl" "$PREFIX" <<'PY'
import json, sys, statistics
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00"))
created, assessed = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line); d = r["data"]
    name = d.get("name", "") if isinstance(d, dict) else ""
    if not name.startswith(sys.argv[2]): continue
    if r["kind"] == "event" and d["action"] == "create": created[name] = t(d["time"])
    if r["kind"] == "finding" and d["action"] == "assessed": assessed[name] = t(r["time"])
lat = sorted((assessed[n] - created[n]).total_seconds() * 1000 for n in created if n in assessed)
missed = len(created) - len(lat)
print(f"{len(created)} {len(lat)} {missed} {statistics.median(lat):.0f} {lat[int(len(lat)*0.9)-1]:.0f} {max(lat):.0f}")
PY
)
read -r seen captured missed p50 p90 pmax <<<"$latency"

# --- 2. drift cost -----------------------------------------------------------
seq 1 "$RUNNING" | xargs -P 8 -I{} docker run -d --name "${PREFIX}-r{}" shipshape-test/base:1 \
  sh -c 'echo x > /tmp/tool && chmod +x /tmp/tool && mkdir -p /etc/app && echo y > /etc/app/conf && sleep 3600' >/dev/null
sleep 2
hyperfine -N --warmup 2 --runs 10 --export-json "$OUT/drift.json" \
  "$BIN scan --quiet --no-drift -o $OUT/a.json" "$BIN scan --quiet -o $OUT/b.json" >/dev/null
read -r without with <<<"$(python3 -c "
import json; r=json.load(open('$OUT/drift.json'))['results']
print(f\"{r[0]['median']*1000:.1f} {r[1]['median']*1000:.1f}\")")"
engine=$(docker version -f '{{.Server.Version}}')

table="| measure | result |
|---|---|
| short-lived containers (\`docker run --rm … true\`) | $seen seen, $captured assessed and recorded, $missed missed |
| create event → \`assessed\` record written, median / p90 / max | $p50 / $p90 / $pmax ms |
| \`scan\` of $RUNNING running containers, without drift | $without ms |
| \`scan\` of $RUNNING running containers, with drift (\`/changes\` + stats of /tmp files) | $with ms |"
echo "$table"
{
  echo "# watch benchmark ($(date -u +%F), $(nproc) cores, engine $engine)"
  echo
  echo "\`scripts/bench-watch.sh $SHORT $RUNNING\`; scan times are hyperfine medians of 10 runs."
  echo
  echo "$table"
} > bench/watch-results.md
