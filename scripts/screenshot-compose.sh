#!/usr/bin/env bash
# The README's compose and harden screenshots, from a real window: a
# compose project brought up with docker-compose on the system engine,
# shipshape opened on its api container (--show), the Risk tab captured
# (each finding with its compose file line), then the Harden tab. Removes
# the project it made.
#
#   scripts/screenshot-compose.sh [DIR]      (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
. scripts/screenshot-setup.sh
work=$(mktemp -d)
# Where a developer keeps the project (made here, removed after).
proj=/home/dev/shop
[ -e "$proj" ] && { echo "screenshot-compose: $proj exists, not touching it" >&2; exit 1; }
mkdir -p "$proj"
cd "$proj"
cat > compose.yaml <<'YAML'
# The shop's services, as a developer writes them.
services:
  api:
    image: shipshape-test/base:1
    command: ["sh", "-c", "mkdir -p /var/cache/api && exec sleep 3600"]
    privileged: true
    cap_add: [NET_ADMIN]
    ports:
      - "8080:80"
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    environment:
      DB_PASSWORD: ${DB_PASSWORD}
    restart: always

  db:
    image: shipshape-test/base:1
    command: ["sleep", "3600"]
    read_only: true
YAML
printf 'DB_PASSWORD=not-a-real-password\n' > .env
export DISPLAY=:88
Xvfb "$DISPLAY" -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
cleanup() {
  (cd "$proj" && docker-compose -p shop down --remove-orphans >/dev/null 2>&1) || true
  rm -rf "$proj"
  kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$work"
}
app=
trap cleanup EXIT
# Privileged containers may not start here: created is enough to judge.
docker-compose -p shop up -d >/dev/null 2>&1 || docker-compose -p shop up --no-start >/dev/null 2>&1
api=$(docker ps -a --filter label=com.docker.compose.project=shop --filter label=com.docker.compose.service=api --format '{{.Names}}')
cd - >/dev/null
HOME=$work "$bin" --no-audit --vulndb "$work/db" --show "$api" >/dev/null 2>&1 & app=$!
sleep 8
xdotool search --name '^shipshape' windowsize 1560 960 windowmove 20 20 2>/dev/null || true
sleep 3
xwd -root -silent | convert xwd:- "$out/compose.png"
echo "wrote $out/compose.png"
# The Harden tab: its label's place, from HARDEN_AT (x y) or the default.
read -r hx hy <<<"${HARDEN_AT:-1223 196}"
xdotool mousemove "$hx" "$hy" click 1
sleep 2
xwd -root -silent | convert xwd:- "$out/harden.png"
echo "wrote $out/harden.png"
