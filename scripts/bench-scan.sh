#!/usr/bin/env bash
# Benchmark: a whole `shipshape scan` (process start to report written,
# drift of every running container included) against the docker CLI
# inspecting the same containers and images, side by side in one hyperfine
# run, for several sizes.
#
#   scripts/bench-scan.sh                 # 116 containers (79 running), then 1000 (300 running)
#   scripts/bench-scan.sh 200:50 400:100  # TOTAL:RUNNING pairs
#
# Creates the containers from shipshape-test/base:1, named ssbench-<pid>-<i>:
# the running ones write a file after starting (so each has drift to read),
# the others are created, not started. Measures with hyperfine (installed
# with apt-get when missing), removes everything it created, and writes the
# table to bench/scan-results.md.
#
# Compared, in the same hyperfine run (each command is what it says):
#   shipshape          shipshape scan -q --host unix:///var/run/docker.sock -o R.json
#                      (drift included; image packages read, cached by id
#                      after the warm-up runs, as on every scan but the first)
#   shipshape-changes  the same with SHIPSHAPE_NO_LAYER_READS=1: drift from
#                      the engine's /changes (and image files through it),
#                      as for an engine on another machine
#   shipshape-nodrift  the same as `shipshape` with --no-drift
#   docker-cli         docker inspect $(docker ps -aq) >/dev/null;
#                      docker image inspect $(docker images -q | sort -u) >/dev/null
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(116:79 1000:300)

./scripts/engine-up.sh
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
# SHIPSHAPE_BIN: benchmark an already-built binary instead of building one.
if [ -z "${SHIPSHAPE_BIN:-}" ]; then
  cargo build --release --quiet
  SHIPSHAPE_BIN=$PWD/target/release/shipshape
fi
BIN=$SHIPSHAPE_BIN
RUNS=${RUNS:-10}
PREFIX="ssbench-$$"
OUT=$(mktemp -d)
cleanup() {
  docker ps -aq --filter "name=^${PREFIX}-" | xargs -r -n 50 docker rm -f >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

created=0
running=0
results="| containers (running) | images | shipshape scan (ms) | docker CLI inspect (ms) | ratio | scan, drift from /changes (ms) | scan --no-drift (ms) |\n|---:|---:|---:|---:|---:|---:|---:|\n"
for size in "${SIZES[@]}"; do
  total=${size%%:*}
  want_running=${size##*:}
  # Running ones first (they write a file: drift), then created ones.
  if [ "$want_running" -gt "$running" ]; then
    seq "$created" $((created + want_running - running - 1)) | xargs -P 6 -I{} docker run -d \
      --name "${PREFIX}-{}" -e DB_PASSWORD=bench --cap-add SYS_ADMIN -p 127.0.0.1::80 \
      shipshape-test/base:1 sh -c 'echo drift > /tmp/dropped; mkdir -p /root/.ssh; exec sleep 36000' >/dev/null
    created=$((created + want_running - running))
    running=$want_running
  fi
  if [ "$total" -gt "$created" ]; then
    seq "$created" $((total - 1)) | xargs -P 6 -I{} docker create --name "${PREFIX}-{}" \
      -e DB_PASSWORD=bench --cap-add SYS_ADMIN -p 127.0.0.1::80 shipshape-test/base:1 >/dev/null
    created=$total
  fi
  all=$(docker ps -aq | wc -l)
  up=$(docker ps -q | wc -l)
  images=$(docker images -q | sort -u | wc -l)
  cat > "$OUT/cli.sh" <<CLI
#!/bin/sh
docker inspect \$(docker ps -aq) > /dev/null
docker image inspect \$(docker images -q | sort -u) > /dev/null
CLI
  chmod +x "$OUT/cli.sh"
  scan="$BIN scan -q --host unix:///var/run/docker.sock --vulndb $OUT/vulndb -o $OUT/report.json"
  hyperfine --warmup 2 --runs "$RUNS" --export-json "$OUT/h.json" \
    -n shipshape "$scan" \
    -n docker-cli "$OUT/cli.sh" \
    -n shipshape-changes "SHIPSHAPE_NO_LAYER_READS=1 $scan" \
    -n shipshape-nodrift "$scan --no-drift" >&2
  read -r ss cli ch nd < <(python3 -c "
import json; r={x['command']: x['median']*1000 for x in json.load(open('$OUT/h.json'))['results']}
print(round(r['shipshape'],1), round(r['docker-cli'],1), round(r['shipshape-changes'],1), round(r['shipshape-nodrift'],1))")
  ratio=$(python3 -c "print(round($ss/$cli,2))")
  # The report saw what the engine has.
  python3 -c "
import json; r=json.load(open('$OUT/report.json'))
c=r['containers']; d=[x for x in c if (x.get('drift') or {}).get('checked_at')]
print(f'report: {len(c)} containers, {len(d)} with drift read', flush=True)" >&2
  results+="| $all ($up) | $images | $ss | $cli | $ratio | $ch | $nd |\n"
done
mkdir -p bench
# Notes written by hand below the marker are kept.
notes=$(sed -n '/^<!-- notes -->/,$p' bench/scan-results.md 2>/dev/null || true)
{
  echo "# scan benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, engine $(docker version -f '{{.Server.Version}}'), storage driver $(docker info -f '{{.Driver}}'))"
  echo
  echo "Median of $RUNS runs (hyperfine, 2 warm-up runs), every command side by side in one run."
  echo "The machine's load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "- shipshape scan: \`shipshape scan -q --host unix:///var/run/docker.sock -o R.json\`, drift of every running container included."
  echo "- docker CLI inspect: \`docker inspect \$(docker ps -aq) >/dev/null; docker image inspect \$(docker images -q | sort -u) >/dev/null\`."
  echo "- ratio: shipshape scan / docker CLI inspect (target: at most 1.0)."
  echo "- drift from /changes: the scan with \`SHIPSHAPE_NO_LAYER_READS=1\` (as for an engine elsewhere)."
  echo
  printf "%b" "$results"
  if [ -n "$notes" ]; then echo; echo "$notes"; fi
} > "$OUT/results.md"
cp "$OUT/results.md" bench/scan-results.md
cat bench/scan-results.md
