#!/usr/bin/env bash
# Dashboard resource use, measured on the real GUI:
#  - CPU while idle with N running containers streaming stats (default 50),
#    averaged over 30 s after a 15 s warm-up, in % of one core;
#  - resident memory of that process.
# Frame CPU time and memory with large inventories are criterion/bench
# targets: `cargo bench --bench ui_frame`, `cargo bench --bench gui_memory`.
#
# Needs an X server: starts Xvfb on :97 when DISPLAY is unset (installs
# xvfb and the GL libraries with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
./scripts/engine-up.sh
if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { apt-get update -qq && apt-get install -y -qq xvfb libgl1 libglx-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 libxcursor1 libxi6 >/dev/null; }
  Xvfb :97 -screen 0 1400x860x24 >/dev/null 2>&1 &
  XVFB=$!
  export DISPLAY=:97
  sleep 1
fi
cargo build --release --quiet
PREFIX="ssgui-$$"
cleanup() {
  [ -n "${APP:-}" ] && kill "$APP" 2>/dev/null || true
  [ -n "${XVFB:-}" ] && kill "$XVFB" 2>/dev/null || true
  docker ps -aq --filter "name=^${PREFIX}-" | xargs -r docker rm -f >/dev/null 2>&1 || true
}
trap cleanup EXIT
seq 1 "$N" | xargs -P 8 -I{} docker run -d --name "${PREFIX}-{}" shipshape-test/base:1 >/dev/null
unset WAYLAND_DISPLAY
target/release/shipshape >/tmp/shipshape-bench-gui.log 2>&1 &
APP=$!
sleep 15
ticks() { awk '{print $14 + $15}' "/proc/$APP/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep 30
t1=$(ticks); s1=$(date +%s.%N)
cpu=$(python3 -c "print(round(100*($t1-$t0)/$hz/($s1-$s0), 2))")
rss=$(awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$APP/status")
echo "idle dashboard with $N running containers streaming stats: CPU ${cpu}% of one core, resident memory ${rss} MiB"
