#!/usr/bin/env bash
# The README's runtime screenshot, from a real window: a busybox web
# container whose CGI script is a shell (what remote code execution through
# a web server looks like) and which also runs a bind shell on 4444 with a
# client connected; shipshape opened on it (--show), its risk panel
# captured. Removes what it made.
#
#   scripts/screenshot-runtime.sh [DIR]      (default docs/screenshots)
#   SKIP_BUILD=1 BIN=target/debug/shipshape scripts/screenshot-runtime.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
. scripts/screenshot-setup.sh
work=$(mktemp -d)
app=
export DISPLAY=:90
cleanup() {
  docker rm -f shot-rt-web shot-rt-client >/dev/null 2>&1 || true
  docker rmi -f shot-rt/web:1 >/dev/null 2>&1 || true
  [ -n "$app" ] && kill "$app" 2>/dev/null || true
  [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/ctx"
printf '#!/bin/sh\necho Content-Type: text/plain\necho\nsleep 3600\n' > "$work/ctx/run"
cat > "$work/ctx/Dockerfile" <<'DOCKERFILE'
FROM shipshape-test/base:1
RUN /bin/busybox mkdir -p /www/cgi-bin && for a in httpd wget nc; do /bin/busybox ln -sf /bin/busybox /bin/$a; done
COPY run /www/cgi-bin/run
RUN /bin/busybox chmod 755 /www/cgi-bin/run
USER 1000
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t shot-rt/web:1 "$work/ctx" >/dev/null
docker run -d --name shot-rt-web -p 127.0.0.1:8088:8080 shot-rt/web:1 \
  sh -c 'httpd -f -p 8080 -h /www & nc -l -p 4444 -e /bin/sh & wait' >/dev/null
sleep 1
# The attack: a request to the CGI script; a client of the bind shell.
docker exec -d shot-rt-web wget -q -O /dev/null http://127.0.0.1:8080/cgi-bin/run
docker run -d --name shot-rt-client --network container:shot-rt-web shipshape-test/base:1 \
  sh -c 'sleep 3600 | nc 127.0.0.1 4444' >/dev/null
sleep 2
Xvfb "$DISPLAY" -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
sleep 1
HOME=$work "$bin" --no-audit --vulndb "$work/db" --show shot-rt-web >/dev/null 2>&1 & app=$!
sleep "${WAIT:-15}"
xdotool search --name '^shipshape' windowsize 1560 960 windowmove 20 20 2>/dev/null || true
sleep 3
xwd -root -silent | convert xwd:- "$out/runtime.png"
echo "wrote $out/runtime.png"
