#!/usr/bin/env bash
# Floods against a real engine, with `shipshape watch` recording them
# (issue 15): memory and CPU of the watcher, and whether every event is
# accounted for in the audit log (recorded one by one, or counted in an
# `events_dropped` record). Three phases:
#   1. create/remove containers in a loop for 60 s, with volumes created and
#      removed beside them straight through the API over kept-alive
#      connections (scripts/flood-api.py: the cheapest event the engine
#      makes), so the stream passes 10,000 events a minute here;
#   2. 1,000 `docker exec` sessions;
#   3. a container restarted in a tight loop for 60 s (`docker restart -t 0`).
# Cleans up after itself. Writes bench/flood-results.md.
#
#   scripts/bench-flood.sh [SECONDS]      (default 60 per timed phase)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
bash scripts/engine-up.sh >/dev/null 2>&1
cargo build --release -q
bin=$PWD/target/release/shipshape
tmp=$(mktemp -d)
prefix="ssflood-$$"
cleanup() {
  [ -n "${wpid:-}" ] && kill -INT "$wpid" 2>/dev/null && wait "$wpid" 2>/dev/null || true
  docker ps -aq --filter "name=$prefix" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker volume ls -q --filter "name=$prefix" | xargs -r docker volume rm >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" watch --no-drift --json --audit-log "$tmp/audit.jsonl" >"$tmp/out.jsonl" 2>"$tmp/err.log" &
wpid=$!
for _ in $(seq 1 100); do grep -q '"kind":"scan"' "$tmp/audit.jsonl" 2>/dev/null && break; sleep 0.2; done

# Sample the watcher's RSS (KiB) and CPU time (ticks) once a second.
sample() { awk '/VmRSS/ {print $2}' /proc/$wpid/status; }
ticks() { awk '{print $14 + $15}' /proc/$wpid/stat; }
hz=$(getconf CLK_TCK)

# Every record so far, across rotations (the log rotates at 16 MiB).
records() { cat "$tmp"/audit-*.jsonl "$tmp/audit.jsonl" 2>/dev/null || true; }
# Events folded into `summary` records (audit::fold) naming the phase's objects.
summarised() { # the names' pattern
  records | grep '"kind":"summary"' | grep -E "\"name\":\"$1" \
    | grep -o '"summarised":"[0-9]*"' | grep -o '[0-9]*' | paste -sd+ | bc 2>/dev/null || echo 0
}
dropped_so_far() {
  records | grep '"kind":"events_dropped"' | grep -o '"dropped":"[0-9]*"' | grep -o '[0-9]*' \
    | paste -sd+ | bc 2>/dev/null || echo 0
}

phase() { # name, the names its objects start with, then the command to run
  local name=$1 pattern=$2; shift 2
  local t0 c0 peak=0 rss
  # The engine keeps only its most recent events: count them live.
  local seen="$tmp/events-$RANDOM" d0
  d0=$(dropped_so_far); d0=${d0:-0}
  docker events --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}' > "$seen" &
  local listener=$!
  sleep 0.5
  t0=$(date +%s.%N); c0=$(ticks)
  "$@" &
  local load=$!
  while kill -0 "$load" 2>/dev/null; do
    rss=$(sample); [ "$rss" -gt "$peak" ] && peak=$rss
    sleep 1
  done
  wait "$load" || true
  # Let the watcher catch up: until its log stops growing (30 s at most).
  local last=-1 now_lines
  for _ in $(seq 1 30); do
    sleep 1
    now_lines=$(records | wc -l)
    [ "$now_lines" = "$last" ] && break
    last=$now_lines
  done
  rss=$(sample); [ "$rss" -gt "$peak" ] && peak=$rss
  local t1 c1
  t1=$(date +%s.%N); c1=$(ticks)
  kill "$listener" 2>/dev/null || true
  local made
  # shipshape's own reads (top, archive-path) are not activity.
  made=$(grep -v '^top \|^archive-path ' "$seen" | grep -cE " $pattern" || true)
  local recorded dropped d1
  recorded=$(records | grep -E '"kind":"(event|exec)"' | grep -cE "\"$pattern" || true)
  d1=$(dropped_so_far); dropped=$(( ${d1:-0} - d0 ))
  local folded
  folded=$(summarised "$pattern"); folded=${folded:-0}
  printf '| %s | %s | %s | %s | %s | %.1f | %.1f %% |\n' "$name" "$made" "$recorded" "$folded" "${dropped:-0}" \
    "$(echo "$peak / 1024" | bc -l)" "$(echo "($c1 - $c0) * 100 / $hz / ($t1 - $t0)" | bc -l)"
}

churn() {
  local end=$((SECONDS + secs))
  python3 scripts/flood-api.py "$prefix" "$secs" 6 &
  for w in 1 2 3 4; do
    ( i=0; while [ $SECONDS -lt $end ]; do
        i=$((i + 1)); docker create --name "$prefix-c$w-$i" shipshape-test/base:1 true >/dev/null 2>&1 || true
        docker rm "$prefix-c$w-$i" >/dev/null 2>&1 || true
      done ) &
  done
  wait
}
execs() {
  docker run -d --name "$prefix-exec" shipshape-test/base:1 sleep 600 >/dev/null
  seq 1 1000 | xargs -P 4 -I{} docker exec "$prefix-exec" true
}
restarts() {
  # The engine's own restart policy backs off (100 ms, doubling); a tight
  # loop is someone restarting it by hand, as fast as the engine allows.
  docker run -d --name "$prefix-restart" shipshape-test/base:1 sleep 600 >/dev/null
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do docker restart -t 0 "$prefix-restart" >/dev/null; done
  docker rm -f "$prefix-restart" >/dev/null
}

{
  echo "# Floods: \`scripts/bench-flood.sh $secs\`"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores. \`shipshape watch --no-drift --json\` recording to its audit log."
  echo "events: engine events naming the phase's containers (\`docker events\`, read live), less shipshape's"
  echo "own reads (\`top\`, \`archive-path\`, which it filters out by design); recorded: audit"
  echo "\`event\` and \`exec\` records for them; summarised: events folded into \`summary\` records"
  echo "naming them (repeats in one container, issue 39); counted: events summed in \`events_dropped\` records."
  echo "An exec's create is one \`exec\` record (user, command, privileges)."
  echo
  echo "| phase | engine events | recorded | summarised | counted | peak RSS (MiB) | watcher CPU |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  phase "create/remove containers and volumes for ${secs} s" "$prefix-(c|v)" churn
  phase "1,000 execs" "$prefix-exec" execs
  phase "restart loop for ${secs} s" "$prefix-restart" restarts
} | tee bench/flood-results.md
records | grep -q '"kind":"session_start"'
"$bin" audit verify "$tmp/audit.jsonl" | tee -a bench/flood-results.md
{
  echo
  echo "An event flood against the audit log (issue 39, D10) is measured by"
  echo "\`scripts/bench-audit-flood.sh\`: [\`audit-flood-results.md\`](audit-flood-results.md)."
} >> bench/flood-results.md
