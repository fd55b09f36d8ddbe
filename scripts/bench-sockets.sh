#!/usr/bin/env bash
# Observed sockets (docs/network-observed.md): the cost of one pass of the
# runtime source over N running containers (N/2 servers, N/2 clients each
# holding one connection to a server), against `ss -tanu` run in each
# network namespace through nsenter (what a script would do); then one
# namespace holding C loopback connections (2*C sockets plus a listener,
# held by two processes: one accepts, one connects):
# time and peak memory of a pass over it, against ss.
#
#   scripts/bench-sockets.sh [N] [C]          defaults 50, 5000
#
# The pass runs in benches/sockets.rs (PROFILE=dev by default: 2 shared
# cores; PROFILE=release for release figures). Everything created is named
# netw-bench-<pid>-… and removed on exit. Prints a markdown table for
# bench/sockets-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}; C=${2:-5000}; PROFILE=${PROFILE:-dev}; RUNS=${RUNS:-10}
bash scripts/engine-up.sh >/dev/null 2>&1
p=netw-bench-$$
net=$p-net
cleanup() {
  # The processes holding the namespace first: an endpoint whose namespace
  # is still held stays in the engine's store, and its network cannot go.
  [ -n "${PYPID:-}" ] && kill "$PYPID" 2>/dev/null || true
  [ -n "${SRVPID:-}" ] && kill "$SRVPID" 2>/dev/null || true
  wait 2>/dev/null || true
  docker ps -aq --filter "name=^/$p-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5; do
    docker network rm "$net" >/dev/null 2>&1 && break
    sleep 2
  done
}
trap cleanup EXIT
docker network create "$net" >/dev/null
half=$((N / 2))
for i in $(seq 1 "$half"); do
  docker run -d --name "$p-s$i" --network "$net" shipshape-test/base:1 sh -c "sleep 3600 | nc -l -p 7000" >/dev/null
done
for i in $(seq 1 "$half"); do
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$p-s$i")
  docker run -d --name "$p-c$i" --network "$net" shipshape-test/base:1 sh -c "sleep 3600 | nc $ip 7000" >/dev/null
done
sleep 2
args=()
pids=()
for c in $(docker ps -q --no-trunc --filter "name=^/$p-"); do
  pid=$(docker inspect -f '{{.State.Pid}}' "$c")
  args+=("$pid:$c"); pids+=("$pid")
done
cargo bench -q --profile "$PROFILE" --bench sockets --no-run 2>/dev/null
pass() { RUNS=$RUNS cargo bench -q --profile "$PROFILE" --bench sockets -- "$@" 2>/dev/null | tail -1; }
ss_all() { # median ms of RUNS runs of ss in each of the given pids' namespaces
  local t=()
  for _ in $(seq 1 "$RUNS"); do
    local s; s=$(date +%s%N)
    for pid in "$@"; do nsenter -t "$pid" -n ss -tanu >/dev/null; done
    t+=($(( ($(date +%s%N) - s) / 1000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}
ours=$(pass "${args[@]}")
theirs=$(ss_all "${pids[@]}")

# One namespace with C loopback connections, opened by a host python in it.
docker run -d --name "$p-many" --network "$net" shipshape-test/base:1 sleep 3600 >/dev/null
mpid=$(docker inspect -f '{{.State.Pid}}' "$p-many")
mid=$(docker inspect -f '{{.Id}}' "$p-many")
# Two processes (one accepts, one connects), so each needs C descriptors only.
nsenter -t "$mpid" -n python3 - "$C" <<'PY' &
import resource, socket, sys, time
c = int(sys.argv[1])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(c + 100, hard), hard))
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 9000)); l.listen(4096)
open("/tmp/netw-bench-listening", "w").close()
keep = [l.accept()[0] for _ in range(c)]
open("/tmp/netw-bench-ready", "w").close()
time.sleep(3600)
PY
SRVPID=$!
for _ in $(seq 1 600); do [ -e /tmp/netw-bench-listening ] && break; sleep 0.1; done
rm -f /tmp/netw-bench-listening
nsenter -t "$mpid" -n python3 - "$C" <<'PY' &
import resource, socket, sys, time
c = int(sys.argv[1])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(c + 100, hard), hard))
keep = [socket.create_connection(("127.0.0.1", 9000)) for _ in range(c)]
time.sleep(3600)
PY
PYPID=$!
for _ in $(seq 1 600); do [ -e /tmp/netw-bench-ready ] && break; sleep 0.1; done
rm -f /tmp/netw-bench-ready
many=$(pass "$mpid:$mid")
many_ss=$(ss_all "$mpid")
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
cat <<MD
| measure | shipshape (profile $PROFILE) | ss -tanu via nsenter |
|---|---|---|
| one pass, $N running containers ($(field listeners "$ours") listeners, $(field connections "$ours") connections) | $(field median_ms "$ours") ms median (min $(field min_ms "$ours")) | $theirs ms |
| one namespace with $C connections ($(field connections "$many") connections seen) | $(field median_ms "$many") ms median (min $(field min_ms "$many")), peak RSS $(field peak_rss "$many") kB | $many_ss ms |
| peak RSS of the $N-container pass | $(field peak_rss "$ours") kB | |
MD
