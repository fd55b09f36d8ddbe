#!/usr/bin/env bash
# Benchmark: several engines at once (issue 11). Starts two private dockerds
# beside the system engine (own sockets, data roots and network namespaces;
# the system engine is only read), puts N containers on each (R of them
# running), then measures:
#   1. `scan --no-drift --no-vulns` of each engine alone and of all three
#      with repeated --host (hyperfine, median): all three should take close
#      to the slowest one, not the sum;
#   2. the window's idle CPU watching all three, under Xvfb, over 60 s.
# Cleans up everything it made. Writes bench/fleet-results.md.
#
#   scripts/bench-fleet.sh [N] [R]        (default 40 containers, 20 running)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-40}; R=${2:-20}
bash scripts/engine-up.sh >/dev/null 2>&1
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
command -v Xvfb >/dev/null || { apt-get update -qq && apt-get install -y -qq xvfb >/dev/null; }
cargo build --release -q
bin=$PWD/target/release/shipshape
tag=$$
prefix="ssfleet-$tag"
dirs=(); nss=(); pids=()
cleanup() {
  [ -n "${gui:-}" ] && kill "$gui" 2>/dev/null || true
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  docker ps -aq --filter "name=^$prefix-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
  for n in "${nss[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

start_engine() { # index → prints the socket
  local i=$1
  local d="/tmp/ssfl-$tag-$i" ns="ssfl-$tag-$i"
  mkdir -p "$d/etc"; dirs+=("$d"); ip netns add "$ns"; nss+=("$ns")
  nsenter --net="/var/run/netns/$ns" ip link set lo up
  nsenter --net="/var/run/netns/$ns" unshare --mount --propagation private sh -c \
    "mount --bind $d/etc /etc/docker && exec dockerd --host unix://$d/d.sock --data-root $d/data \
     --exec-root $d/exec --pidfile $d/pid --shutdown-timeout 2" >"$d/log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 150); do docker -H "unix://$d/d.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker save shipshape-test/base:1 | docker -H "unix://$d/d.sock" load -q >/dev/null
}
populate() { # host
  local h=$1
  seq 1 "$N" | xargs -P 4 -I{} docker -H "$h" create --name "$prefix-{}" --cap-add SYS_ADMIN \
    -e DB_PASSWORD=bench shipshape-test/base:1 sleep 100000 >/dev/null
  seq 1 "$R" | xargs -P 4 -I{} docker -H "$h" start "$prefix-{}" >/dev/null
}

start_engine 1; start_engine 2
hosts=("unix:///var/run/docker.sock" "unix:///tmp/ssfl-$tag-1/d.sock" "unix:///tmp/ssfl-$tag-2/d.sock")
for h in "${hosts[@]}"; do populate "$h"; done

scan() { echo "$bin scan -q --no-drift --no-vulns -o /dev/null $*"; }
export SHIPSHAPE_VULNDB=$(mktemp -d); dirs+=("$SHIPSHAPE_VULNDB")
hyperfine -N --warmup 1 --runs 7 --export-json "/tmp/ssfl-$tag.json" \
  -n system "$(scan --host "${hosts[0]}")" \
  -n private-1 "$(scan --host "${hosts[1]}")" \
  -n private-2 "$(scan --host "${hosts[2]}")" \
  -n all-three "$(scan --host "${hosts[0]}" --host "${hosts[1]}" --host "${hosts[2]}")" >/dev/null
med() { python3 -c "import json,sys; r=json.load(open('/tmp/ssfl-$tag.json'))['results']; print(round([x for x in r if x['command']==sys.argv[1]][0]['median']*1000))" "$1"; }
s0=$(med system); s1=$(med private-1); s2=$(med private-2); all=$(med all-three)
slowest=$(printf '%s\n' "$s0" "$s1" "$s2" | sort -n | tail -1)
ratio=$(echo "scale=2; $all / $slowest" | bc)
total_containers=$(( $(docker ps -aq | wc -l) + 2 * N ))

# The window, idle, watching all three.
export DISPLAY=:77
Xvfb :77 -screen 0 1400x900x24 >/dev/null 2>&1 & xvfb=$!
sleep 1
"$bin" --no-audit --host "${hosts[0]}" --host "${hosts[1]}" --host "${hosts[2]}" >/dev/null 2>&1 & gui=$!
sleep 30
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' /proc/$gui/stat); sleep 60; t1=$(awk '{print $14 + $15}' /proc/$gui/stat)
cpu=$(echo "scale=1; ($t1 - $t0) * 100 / $hz / 60" | bc)
rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$gui/status)

{
  echo "# Several engines: \`scripts/bench-fleet.sh $N $R\`"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores. Three engines: the system one ($(docker ps -aq | wc -l) containers"
  echo "in all) and two private dockerds with $N containers each ($R running). Release build."
  echo
  echo "| scan | median (ms) |"
  echo "|---|---:|"
  echo "| system engine alone | $s0 |"
  echo "| private engine 1 alone | $s1 |"
  echo "| private engine 2 alone | $s2 |"
  echo "| all three (\`--host\` ×3, in parallel) | **$all** |"
  echo
  echo "All three take **$ratio ×** the slowest single engine (target ≤ 1.3)."
  echo
  echo "The window watching all three (one worker each: events, polls, one stats stream per running"
  echo "container — $((3 * R)) or more streams), idle for 60 s after a 30 s settle, under Xvfb:"
  echo "**$cpu %** of one core (target ≤ 3 %), $rss MiB resident."
} | tee bench/fleet-results.md
