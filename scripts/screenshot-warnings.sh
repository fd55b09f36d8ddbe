#!/usr/bin/env bash
# The README's scan-warnings screenshots, from a real window: created
# containers of fourteen compose projects whose files are gone (what a
# developer's machine holds after deleting old checkouts) give one amber
# line in the window; "Show the list" opens them grouped by kind.
# Removes what it made.
#
#   scripts/screenshot-warnings.sh [DIR]      (default docs/screenshots)
#   SKIP_BUILD=1 BIN=target/debug/shipshape scripts/screenshot-warnings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
. scripts/screenshot-setup.sh
work=$(mktemp -d)
made=()
for i in $(seq 1 14); do
  n=shot-warn-$i
  docker create --name "$n" \
    --label com.docker.compose.project=old-shop-$i \
    --label com.docker.compose.service=api \
    --label com.docker.compose.project.working_dir=/home/dev/old-shop-$i \
    --label com.docker.compose.project.config_files=/home/dev/old-shop-$i/compose.yaml \
    shipshape-test/base:1 sleep 3600 >/dev/null
  made+=("$n")
done
export DISPLAY=:89
Xvfb "$DISPLAY" -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
app=
cleanup() {
  docker rm -f "${made[@]}" >/dev/null 2>&1 || true
  [ -n "$app" ] && kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
sleep 1
HOME=$work "$bin" --no-audit --vulndb "$work/db" >/dev/null 2>&1 & app=$!
sleep "${WAIT:-12}"
xdotool search --name '^shipshape' windowsize 1560 960 windowmove 20 20 2>/dev/null || true
sleep 3
xwd -root -silent | convert xwd:- "$out/scan-warnings.png"
echo "wrote $out/scan-warnings.png"
# "Show the list": its place from LIST_AT (x y), or found by the caller.
if [ -n "${LIST_AT:-}" ]; then
  read -r lx ly <<<"$LIST_AT"
  xdotool mousemove "$lx" "$ly" click 1
  sleep 2
  xwd -root -silent | convert xwd:- "$out/scan-warnings-list.png"
  echo "wrote $out/scan-warnings-list.png"
fi
