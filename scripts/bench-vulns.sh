#!/usr/bin/env bash
# A second `shipshape scan` with vulnerability matching, the image
# inventories cached, against a scan without matching (issue 9: target
# ≤ 10 % slower). 50 containers on 10 images that carry a Debian 12 dpkg
# database; the OSV fixture records as the database. Cleans up after itself.
#
#   scripts/bench-vulns.sh [RUNS]        (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
bash scripts/engine-up.sh >/dev/null 2>&1
cargo build --release -q
bin=$PWD/target/release/shipshape
tmp=$(mktemp -d)
prefix="ssbench-vulns-$$"
cleanup() {
  docker ps -aq --filter "name=$prefix" | xargs -r docker rm -f >/dev/null 2>&1 || true
  for i in $(seq 1 10); do docker rmi "$prefix/app:$i" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

for i in $(seq 1 10); do
  printf 'FROM shipshape-test/debian12:1\nLABEL bench=%s\n' "$i" |
    DOCKER_BUILDKIT=0 docker build -q -t "$prefix/app:$i" - >/dev/null
  for j in $(seq 1 5); do docker create --name "$prefix-$i-$j" "$prefix/app:$i" >/dev/null; done
done
mkdir -p "$tmp/osv/Debian"
(cd tests/fixtures/osv/Debian && zip -q "$tmp/osv/Debian/all.zip" ./*.json)
"$bin" --vulndb "$tmp/db" db import "$tmp/osv/Debian/all.zip" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_scan() {
  local s e
  s=$(date +%s%N)
  "$bin" --vulndb "$tmp/db" scan -q --no-drift "$@" -o "$tmp/r.json" >/dev/null
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}
"$bin" --vulndb "$tmp/db" scan -q --no-drift -o "$tmp/first.json"   # reads and caches
first=$(time_scan)                                                   # warm cache
without=$(for _ in $(seq 1 "$runs"); do time_scan --no-vulns; done | median)
with=$(for _ in $(seq 1 "$runs"); do time_scan; done | median)
containers=$(docker ps -aq | wc -l)
echo "containers on the engine: $containers (50 on 10 bench images)"
echo "scan --no-vulns (median of $runs): ${without} ms"
echo "scan, inventories cached (median of $runs): ${with} ms"
awk -v a="$with" -v b="$without" 'BEGIN { printf "overhead: %+.1f %%\n", (a - b) * 100 / b }'
