#!/usr/bin/env bash
# Benchmark: `shipshape scan` (process start to report written) against the
# docker CLI inspecting the same containers and images, for several N.
#
#   scripts/bench-scan.sh            # N = 100 200 400
#   scripts/bench-scan.sh 200 800    # chosen sizes
#
# Creates N containers (created, not started) named ssbench-<pid>-<i>,
# measures with hyperfine (installed with apt-get when missing), removes
# everything it created, and prints a table. Results also go to
# bench/scan-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(100 200 400)

./scripts/engine-up.sh
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
# SHIPSHAPE_BIN: benchmark an already-built binary instead of building one.
if [ -z "${SHIPSHAPE_BIN:-}" ]; then
  cargo build --release --quiet
  SHIPSHAPE_BIN=$PWD/target/release/shipshape
fi
BIN=$SHIPSHAPE_BIN
PREFIX="ssbench-$$"
OUT=$(mktemp -d)
cleanup() {
  docker ps -aq --filter "name=^${PREFIX}-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$OUT"
}
trap cleanup EXIT

created=0
results="| N containers | images | shipshape scan (ms) | docker CLI inspect (ms) | ratio |\n|---:|---:|---:|---:|---:|\n"
for n in "${SIZES[@]}"; do
  if [ "$n" -gt "$created" ]; then
    seq "$created" $((n - 1)) | xargs -P 8 -I{} docker create --name "${PREFIX}-{}" \
      -e DB_PASSWORD=bench --cap-add SYS_ADMIN -p 127.0.0.1::80 shipshape-test/base:1 >/dev/null
    created=$n
  fi
  total=$(docker ps -aq | wc -l)
  images=$(docker images -q | sort -u | wc -l)
  # Baseline: what a person would type to look at the same objects.
  cat > "$OUT/cli.sh" <<CLI
#!/bin/sh
docker inspect \$(docker ps -aq) > /dev/null
docker image inspect \$(docker images -q | sort -u) > /dev/null
CLI
  chmod +x "$OUT/cli.sh"
  hyperfine --warmup 2 --runs 10 --export-json "$OUT/h.json" \
    -n shipshape "$BIN scan -q --host unix:///var/run/docker.sock -o $OUT/report.json" \
    -n docker-cli "$OUT/cli.sh" >&2
  read -r ss cli < <(python3 -c "
import json; r={x['command']: x['median']*1000 for x in json.load(open('$OUT/h.json'))['results']}
print(round(r['shipshape'],1), round(r['docker-cli'],1))")
  ratio=$(python3 -c "print(round($ss/$cli,2))")
  results+="| $total | $images | $ss | $cli | $ratio |\n"
done
mkdir -p bench
{
  echo "# scan benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, engine $(docker version -f '{{.Server.Version}}'))"
  echo
  echo "Median of 10 runs (hyperfine, 2 warm-up runs). Containers are created, not started."
  echo
  printf "%b" "$results"
} | tee bench/scan-results.md
