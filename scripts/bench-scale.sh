#!/usr/bin/env bash
# Scale: shipshape against one engine holding TOTAL containers (RUN running,
# the rest created) on IMAGES images — by default 1,000 / 300 / 20.
#
# The engine is a private dockerd (own socket, data root, exec root, network
# and mount namespace) started with --debug, so every API request it serves
# is in its log and its CPU (dockerd, its containerd and the shims) is
# shipshape's alone. Measures, in one run:
#   1. `scan --no-drift --no-vulns` against the docker CLI inspecting the
#      same containers and images (hyperfine medians), at 10 %, 25 %, 50 % and
#      100 % of TOTAL: is it linear, and how does it compare;
#   2. engine requests of one full pass (what the window read on every
#      30 s poll before the light passes), with and without drift;
#   3. the window (release build, Xvfb, software GL): first frame and full
#      inventory on screen after launch; then, idle, its CPU, the engine's
#      CPU, the engine requests per minute and the stats streams it holds;
#      with LONG=1 also its resident memory 15 minutes after launch;
#   4. the engine's CPU with nothing attached, and with `docker stats` on
#      the same containers, side by side with 3.
# Cleans up everything it made. Writes bench/scale-engine-results.md.
#
#   scripts/bench-scale.sh [TOTAL] [RUN] [IMAGES]      LONG=1 for the 15 min RSS
#   HOLD=1 scripts/bench-scale.sh                      build the engine, print its
#                                                      host and keep it for profiling
set -euo pipefail
cd "$(dirname "$0")/.."
TOTAL=${1:-1000}; RUN=${2:-300}; IMAGES=${3:-20}
WINDOW=${WINDOW:-120}
# SIZES: the scan growth steps, in % of TOTAL.
SIZES=${SIZES:-10 25 50 100}
bash scripts/engine-up.sh >/dev/null 2>&1
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v Xvfb >/dev/null || need+=(xvfb libgl1 libglx-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxi6)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release -q
bin=$PWD/target/release/shipshape
tag=$$
d=/tmp/sssc-$tag ns=sssc-$tag
H="unix://$d/d.sock"
D=(docker -H "$H")
cleanup() {
  for p in ${gui:-} ${stats:-} ${xvfb:-} ${empty_engine:-}; do kill "$p" 2>/dev/null || true; done
  if [ -n "${engine:-}" ]; then
    "${D[@]}" ps -aq 2>/dev/null | xargs -r "${D[@]}" rm -f >/dev/null 2>&1 || true
    kill "$engine" 2>/dev/null || true
    while kill -0 "$engine" 2>/dev/null; do sleep 0.2; done
  fi
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$d/etc"; ip netns add "$ns"
nsenter --net="/var/run/netns/$ns" ip link set lo up
nsenter --net="/var/run/netns/$ns" unshare --mount --propagation private sh -c \
  "mount --bind $d/etc /etc/docker && exec dockerd --debug --host $H --data-root $d/data \
   --exec-root $d/exec --pidfile $d/pid --shutdown-timeout 2" >"$d/log" 2>&1 &
engine=$!
for _ in $(seq 1 150); do "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.2; done
docker save shipshape-test/base:1 | "${D[@]}" load -q >/dev/null
for i in $(seq 1 "$IMAGES"); do
  printf 'FROM shipshape-test/base:1\nLABEL bench.variant=%s\n' "$i" |
    DOCKER_BUILDKIT=0 "${D[@]}" build -q -t "bench/img$i:1" - >/dev/null
done

made=0; started=0
grow() { # containers → create up to it, RUN/TOTAL of them running
  local n=$1 r=$(( $1 * RUN / TOTAL ))
  if [ "$n" -gt "$made" ]; then
    seq "$made" $((n - 1)) | xargs -P 8 -I{} sh -c \
      "docker -H $H create -q --name c{} -e DB_PASSWORD=bench --cap-add SYS_ADMIN \
       bench/img\$(( {} % $IMAGES + 1 )):1 sleep 100000 >/dev/null"
    made=$n
  fi
  if [ "$r" -gt "$started" ]; then
    seq "$started" $((r - 1)) | xargs -P 4 -I{} docker -H "$H" start c{} >/dev/null
    started=$r
  fi
}
cat > "$d/cli.sh" <<CLI
#!/bin/sh
docker -H $H inspect \$(docker -H $H ps -aq) > /dev/null
docker -H $H image inspect \$(docker -H $H images -q | sort -u) > /dev/null
CLI
chmod +x "$d/cli.sh"
export SHIPSHAPE_VULNDB=$d/vulndb
scan="$bin scan -q --no-drift --no-vulns --host $H -o /dev/null"
growth="| containers (running) | shipshape scan (ms) | docker CLI inspect (ms) | ratio | ms per container |\n|---:|---:|---:|---:|---:|\n"
for pct in $( [ "${HOLD:-0}" = 1 ] || echo "$SIZES" ); do
  n=$(( TOTAL * pct / 100 )); grow "$n"
  hyperfine -N --warmup 1 --runs 7 --export-json "$d/h.json" \
    -n shipshape "$scan" -n cli "$d/cli.sh" >/dev/null 2>&1
  read -r s c < <(python3 -c "
import json; r={x['command']:x['median']*1000 for x in json.load(open('$d/h.json'))['results']}
print(round(r['shipshape']), round(r['cli']))")
  growth+="| $n ($(( n * RUN / TOTAL ))) | $s | $c | $(echo "scale=2; $s / $c" | bc) | $(echo "scale=3; $s / $n" | bc) |\n"
done

if [ "${HOLD:-0}" = 1 ]; then
  grow "$TOTAL"
  echo "engine ready: --host $H   (Ctrl-C or kill $$ removes it)"
  while :; do sleep 3600 & wait $!; done
fi
calls() { grep -c 'Calling ' "$d/log" || true; }
c0=$(calls); $scan >/dev/null 2>&1; c1=$(calls); full=$((c1 - c0))
c0=$(calls); ${scan/--no-drift /} >/dev/null 2>&1; c1=$(calls); full_drift=$((c1 - c0))

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
engine_ticks() { # dockerd, its containerd and every shim of this engine
  local t=0 p
  for p in $(pgrep -f -- "$d/exec"); do t=$(( t + $(ticks "$p") )); done
  echo "$t"
}
cpu_over() { # seconds → the engine's CPU in % of one core over that time
  local e0; e0=$(engine_ticks); sleep "$1"
  echo "scale=1; ($(engine_ticks) - $e0) * 100 / $hz / $1" | bc
}
engine_idle=$(cpu_over 60)

export DISPLAY=:79
Xvfb :79 -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
sleep 1
unset WAYLAND_DISPLAY
t_launch=$(date +%s.%N)
SHIPSHAPE_LOG=shipshape::timing=info "$bin" --no-audit --host "$H" >"$d/gui.log" 2>&1 & gui=$!
for _ in $(seq 1 600); do grep -q 'inventory on screen' "$d/gui.log" && break; sleep 0.1; done
since_launch() { # message → seconds from launch to its log line
  python3 - "$t_launch" "$1" "$d/gui.log" <<'PY'
import sys, re, datetime
t0, msg, path = float(sys.argv[1]), sys.argv[2], sys.argv[3]
for line in open(path, errors="replace"):
    if msg in line:
        ts = re.sub(r"\x1b\[[0-9;]*m", "", line).split()[0]
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
        print(f"{t - t0:.2f}"); break
else:
    print("n/a")
PY
}
first=$(since_launch 'first frame'); shown=$(since_launch 'inventory on screen')
sleep 60  # settle: image files, drift, streams chosen; then unattended
g0=$(ticks "$gui"); e0=$(engine_ticks); c0=$(calls)
sleep "$WINDOW"
g1=$(ticks "$gui"); e1=$(engine_ticks); c1=$(calls)
# What the requests of the idle window were, per minute.
breakdown=$(grep 'Calling ' "$d/log" | sed -n "$((c0 + 1)),${c1}p" | python3 -c "
import sys, re, collections
kinds = collections.Counter()
for line in sys.stdin:
    m = re.search(r'Calling (\w+) (\S+)', line)
    if not m: continue
    verb, path = m.group(1), re.sub(r'^/v[0-9.]+', '', m.group(2).strip('\"'))
    if '/stats' in path: k = 'stats one-shot (sampled)' if 'stream=0' in path or 'stream=false' in path else 'stats stream opened'
    elif path.endswith('/changes'): k = 'drift: /changes'
    elif verb == 'HEAD': k = 'drift: HEAD archive stat'
    elif '/archive' in path: k = 'image files: archive'
    elif path.startswith('/containers/json'): k = 'container list'
    elif path.startswith('/images/json'): k = 'image list'
    elif re.match(r'/containers/[^/]+/json', path): k = 'container inspect'
    elif re.match(r'/containers/[^/]+/top', path): k = 'top'
    elif path.startswith('/images/'): k = 'image inspect/history'
    elif path.startswith('/exec/'): k = 'exec inspect'
    else: k = path.split('?')[0]
    kinds[k] += 1
w = $WINDOW / 60
for k, n in kinds.most_common():
    print(f'| {k} | {n / w:.0f} |')
")
gui_cpu=$(echo "scale=1; ($g1 - $g0) * 100 / $hz / $WINDOW" | bc)
engine_gui=$(echo "scale=1; ($e1 - $e0) * 100 / $hz / $WINDOW" | bc)
per_min=$(( (c1 - c0) * 60 / WINDOW ))
streams=$(ls -l "/proc/$gui/fd" 2>/dev/null | grep -c socket || true)
rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$gui/status")
rss15="not measured (LONG=1)"
if [ "${LONG:-0}" = 1 ]; then
  left=$(python3 -c "import time; print(max(0, int(900 - (time.time() - $t_launch))))")
  sleep "$left"
  rss15="$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$gui/status") MiB"
fi
kill "$gui"; wait "$gui" 2>/dev/null || true; gui=
# The floor: the same window watching an engine with nothing in it.
empty=$d/empty; mkdir -p "$empty"
nsenter --net="/var/run/netns/$ns" dockerd --host "unix://$empty/d.sock" --data-root "$empty/data" \
  --exec-root "$empty/exec" --pidfile "$empty/pid" --bridge none --iptables=false >"$empty/log" 2>&1 &
empty_engine=$!
for _ in $(seq 1 150); do docker -H "unix://$empty/d.sock" version >/dev/null 2>&1 && break; sleep 0.2; done
"$bin" --no-audit --host "unix://$empty/d.sock" >/dev/null 2>&1 & gui=$!
sleep 60
rss_empty=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$gui/status")
kill "$gui"; wait "$gui" 2>/dev/null || true; gui=
kill "$empty_engine"; while kill -0 "$empty_engine" 2>/dev/null; do sleep 0.2; done
sleep 5
"${D[@]}" stats >/dev/null 2>&1 & stats=$!
sleep 10
engine_stats=$(cpu_over 60)
kill "$stats"; stats=

{
  echo "# Scale: \`scripts/bench-scale.sh $TOTAL $RUN $IMAGES\`"
  echo
  echo "$(date -u +%F), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), release build."
  echo "One private engine (Docker $("${D[@]}" version -f '{{.Server.Version}}'), --debug) holding $TOTAL containers"
  echo "($RUN running \`sleep\`, the rest created) on $IMAGES images."
  echo
  echo "## Scan"
  echo
  printf '%b' "$growth"
  echo
  echo "One full pass reads **$full** engine requests without drift, $full_drift with it."
  echo
  echo "## The window"
  echo
  echo "| measurement | figure |"
  echo "|---|---:|"
  echo "| first frame after launch | $first s |"
  echo "| full inventory on screen after launch | $shown s |"
  echo "| idle window CPU ($WINDOW s, from 60 s after launch) | $gui_cpu % of one core |"
  echo "| engine requests per minute, idle window | $per_min |"
  echo "| engine CPU, nothing attached | $engine_idle % |"
  echo "| engine CPU, idle window | $engine_gui % |"
  echo "| engine CPU, \`docker stats\` of the same containers | $engine_stats % |"
  echo "| window's open sockets (stats streams + event stream + calls) | $streams |"
  echo "| window RSS after $(( 60 + WINDOW )) s | $rss MiB |"
  echo "| window RSS 15 min after launch | $rss15 |"
  echo "| the same window on an empty engine, RSS after 60 s (egui, GL, fonts: the floor) | $rss_empty MiB |"
  echo
  echo "Engine requests per minute of the idle window, by kind:"
  echo
  echo "| request | per minute |"
  echo "|---|---:|"
  echo "$breakdown"
} | tee bench/scale-engine-results.md
