#!/usr/bin/env bash
# The README's notification screenshot, from a real window and a real
# notification daemon: Xvfb, a private session bus, dunst as the
# notification service, shipshape watching the system engine; then twelve
# privileged containers are created at once (one grouped notification),
# and the screen is captured. Removes the containers it made.
#
#   scripts/screenshot-notify.sh [OUT]      (default docs/screenshots/notification.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots/notification.png}
bash scripts/engine-up.sh >/dev/null 2>&1
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v dunst >/dev/null || need+=(dunst)
command -v xwd >/dev/null || need+=(x11-apps)
[ -x /usr/bin/convert ] || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release -q
bin=$PWD/target/release/shipshape
tag=ssshot-$$
work=$(mktemp -d)
export DISPLAY=:87
Xvfb "$DISPLAY" -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
cleanup() {
  docker ps -aq --filter "name=^/$tag-" | xargs -r docker rm -f >/dev/null 2>&1 || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
sleep 1
cat > "$work/dunstrc" <<'RC'
[global]
    width = 420
    origin = top-right
    offset = 16x56
    font = DejaVu Sans 10
    frame_width = 2
    frame_color = "#d35400"
    corner_radius = 6
    padding = 10
    horizontal_padding = 12
    icon_position = off
[urgency_critical]
    background = "#2b2b2b"
    foreground = "#f0f0f0"
    frame_color = "#e74c3c"
    timeout = 0
RC
# One session bus for dunst and the window.
dbus-run-session -- bash -c "
  dunst -config '$work/dunstrc' >/dev/null 2>&1 &
  sleep 1
  '$bin' --no-audit >/dev/null 2>&1 &
  sleep 8
  seq 1 12 | xargs -P 12 -I{} docker create -q --name $tag-web{} --privileged \
    shipshape-test/base:1 sleep 600 >/dev/null
  sleep 6
  xwd -root -silent | /usr/bin/convert xwd:- '$out'
  kill %2 2>/dev/null; kill %1 2>/dev/null
"
echo "$out"
