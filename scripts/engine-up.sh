#!/usr/bin/env bash
# Make sure a Docker engine is reachable and the local test images exist.
#
# Idempotent: does nothing that is already done. Used by the test suite
# (tests/common), the benchmark script and CI. Installs docker.io and
# busybox-static with apt-get when they are missing (needs root), starts
# dockerd in the background when no socket answers, and builds the tiny
# local images the tests use (no registry is needed or contacted).
set -euo pipefail

SOCK=${SHIPSHAPE_TEST_SOCKET:-/var/run/docker.sock}
LOG=${SHIPSHAPE_DOCKERD_LOG:-/tmp/shipshape-dockerd.log}

say() { printf 'engine-up: %s\n' "$*" >&2; }

need_pkg=()
command -v dockerd >/dev/null 2>&1 || need_pkg+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkg+=(busybox-static)
if [ ${#need_pkg[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing ${need_pkg[*]} and not root: install them, then run again"; exit 1
  fi
  say "installing ${need_pkg[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkg[@]}" >/dev/null
fi

engine_ok() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if ! engine_ok; then
  if [ "$(id -u)" != 0 ]; then
    say "no engine answers on $SOCK and not root: start dockerd, then run again"; exit 1
  fi
  say "starting dockerd (log: $LOG)"
  # A stale socket or pid file from a dead daemon makes dockerd refuse to start.
  pgrep -x dockerd >/dev/null || rm -f "$SOCK" /var/run/docker.pid
  setsid nohup dockerd >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do engine_ok && break; sleep 0.5; done
  engine_ok || { say "dockerd did not come up; last log lines:"; tail -20 "$LOG" >&2; exit 1; }
fi

# --- local images -----------------------------------------------------------
# Bump FIXTURE when the images below change: older copies are rebuilt.
FIXTURE=3
# shipshape-test/base:1        busybox rootfs, CMD sleep, runs as root, no healthcheck
# shipshape-test/base:latest   same image, mutable tag
# shipshape-test/hardened:1    non-root USER, HEALTHCHECK
BUSYBOX=$(command -v busybox || echo /bin/busybox)
image_exists() {
  [ "$(docker -H "unix://$SOCK" image inspect -f '{{index .Config.Labels "shipshape.fixture"}}' "$1" 2>/dev/null)" = "$FIXTURE" ]
}

if ! image_exists shipshape-test/base:1; then
  say "building shipshape-test/base:1"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/bin "$root"/etc "$root"/tmp "$root"/root "$root"/home/app
  cp "$BUSYBOX" "$root"/bin/busybox
  for a in sh sleep true false id cat ls cp chmod echo ps touch mkdir rm env wget nc; do
    ln -s busybox "$root/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root"/etc/passwd
  echo 'app:x:10001:10001:app:/home/app:/bin/sh' >> "$root"/etc/passwd
  printf 'root:x:0:\napp:x:10001:\n' > "$root"/etc/group
  chmod 1777 "$root"/tmp
  # A stand-in package manager, so a Dockerfile can `RUN apt-get update`.
  mkdir -p "$root"/usr/sbin
  printf '#!/bin/sh\necho "apt-get $*"\n' > "$root"/bin/apt-get
  # A process whose executable is called sshd (a script: comm is "sshd").
  printf '#!/bin/sh\nsleep 3600\n' > "$root"/usr/sbin/sshd
  chmod 755 "$root"/bin/apt-get "$root"/usr/sbin/sshd
  tar -C "$root" -c . | docker -H "unix://$SOCK" import \
    -c 'CMD ["sleep","3600"]' -c 'ENV PATH=/bin:/usr/sbin' -c "LABEL shipshape.fixture=$FIXTURE" \
    - shipshape-test/base:1 >/dev/null
  docker -H "unix://$SOCK" tag shipshape-test/base:1 shipshape-test/base:latest
fi

if ! image_exists shipshape-test/hardened:1; then
  say "building shipshape-test/hardened:1"
  ctx=$(mktemp -d)
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM shipshape-test/base:1
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=3s CMD ["true"]
CMD ["sleep","3600"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t shipshape-test/hardened:1 "$ctx" >/dev/null 2>&1 \
    || { say "building shipshape-test/hardened:1 failed"; exit 1; }
  rm -rf "$ctx"
fi

if ! image_exists shipshape-test/leaky:1; then
  say "building shipshape-test/leaky:1"
  ctx=$(mktemp -d)
  echo 'hello' > "$ctx/payload.txt"
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM shipshape-test/base:1
ENV API_TOKEN=shipshape-image-token-value-9f8e7d6c
ADD payload.txt /payload.txt
RUN apt-get update
CMD ["sleep","3600"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t shipshape-test/leaky:1 "$ctx" >/dev/null 2>&1 \
    || { say "building shipshape-test/leaky:1 failed"; exit 1; }
  rm -rf "$ctx"
fi
say "engine ready on $SOCK"
