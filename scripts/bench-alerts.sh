#!/usr/bin/env bash
# Alert latency: from `docker create` of a privileged container to the
# desktop notification's `Notify` call, with `shipshape watch --notify` on
# the system engine, dunst as the notification service and dbus-monitor
# timing the call, all on a private session bus and a private X display.
# Three containers, 35 s apart (past the 30 s streak: each its own
# notification). Removes what it creates.
#
#   scripts/bench-alerts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/engine-up.sh >/dev/null 2>&1
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v dunst >/dev/null || need+=(dunst)
command -v dbus-monitor >/dev/null || need+=(dbus-bin)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release -q
work=$(mktemp -d)
trap 'docker ps -aq --filter "name=^/sslat-$$-" | xargs -r docker rm -f >/dev/null 2>&1; rm -rf "$work"' EXIT
cat > "$work/run.sh" <<RUN
export DISPLAY=:86
Xvfb :86 -screen 0 800x600x24 >/dev/null 2>&1 & x=\$!
sleep 1
dunst >/dev/null 2>&1 &
sleep 1
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" > "$work/mon.log" 2>&1 &
XDG_RUNTIME_DIR="$work" "$PWD/target/release/shipshape" watch --no-audit --no-drift --notify > /dev/null 2>&1 & w=\$!
sleep 8
for i in 1 2 3; do
  date +%s.%N >> "$work/created"
  docker create -q --name sslat-$$-\$i --privileged shipshape-test/base:1 sleep 600 >/dev/null
  sleep 35
done
kill \$w; sleep 1; kill %1 %2 %3 2>/dev/null; kill \$x
RUN
dbus-run-session -- bash "$work/run.sh" 2>/dev/null
grep -E "method call time=" "$work/mon.log" | sed 's/.*time=\([0-9.]*\).*/\1/' > "$work/shown"
paste "$work/created" "$work/shown" | awk '{ printf "container %d: notification %.2f s after docker create\n", NR, $2 - $1 }'
