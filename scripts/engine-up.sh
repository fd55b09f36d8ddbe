#!/usr/bin/env bash
# Make sure a Docker engine is reachable and the local test images exist.
#
# Idempotent: does nothing that is already done. Used by the test suite
# (tests/common), the benchmark script and CI. Installs docker.io and
# busybox-static (and dbus-daemon, for the notification tests' private
# session bus) with apt-get when they are missing (needs root), starts
# dockerd in the background when no socket answers, and builds the tiny
# local images the tests use (no registry is needed or contacted).
set -euo pipefail

SOCK=${SHIPSHAPE_TEST_SOCKET:-/var/run/docker.sock}
LOG=${SHIPSHAPE_DOCKERD_LOG:-/tmp/shipshape-dockerd.log}

say() { printf 'engine-up: %s\n' "$*" >&2; }

need_pkg=()
command -v dockerd >/dev/null 2>&1 || need_pkg+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need_pkg+=(busybox-static)
command -v dbus-daemon >/dev/null 2>&1 || need_pkg+=(dbus-daemon)
# The signature tests (tests/integrity.rs): a local registry on loopback
# (distribution 2.8; its package does not start a service where
# policy-rc.d denies it), curl to upload signatures, openssl to make them.
command -v docker-registry >/dev/null 2>&1 || need_pkg+=(docker-registry)
command -v curl >/dev/null 2>&1 || need_pkg+=(curl)
command -v openssl >/dev/null 2>&1 || need_pkg+=(openssl)
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
FIXTURE=4
# shipshape-test/base:1        busybox rootfs, CMD sleep, runs as root, no healthcheck
# shipshape-test/base:latest   same image, mutable tag
# shipshape-test/hardened:1    non-root USER, HEALTHCHECK
# shipshape-test/debian12:1    + Debian 12 os-release (a link, as on Debian) and dpkg status,
#                              a setuid /usr/bin/passwd (tests/fixtures/packages/debian12)
# shipshape-test/distroless:1  + Debian 12 os-release and dpkg status.d/ (no status file)
# shipshape-test/debian11:1    + Debian 11 (end of support) os-release and dpkg status
# shipshape-test/alpine322:1   + Alpine 3.22 os-release, apk repositories and database
# shipshape-test/rocky9:1      + Rocky Linux 9 os-release (RPM: not assessed)
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
  for a in sh sleep true false id cat ls cp chmod echo ps touch mkdir rm env wget nc ln; do
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
# Build steps that break integrity (image.unverified-download,
# image.signature-checks-off): `true ||` keeps the build offline while the
# history records the command as written.
if ! image_exists shipshape-test/fetched:1; then
  say "building shipshape-test/fetched:1"
  ctx=$(mktemp -d)
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM shipshape-test/base:1
RUN true || curl -fsSL http://get.example.invalid/install.sh | sh
RUN true || apk add --allow-untrusted /tmp/tool.apk
ENV NODE_TLS_REJECT_UNAUTHORIZED=0
CMD ["sleep","3600"]
DOCKERFILE
  DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t shipshape-test/fetched:1 "$ctx" >/dev/null 2>&1 \
    || { say "building shipshape-test/fetched:1 failed"; exit 1; }
  rm -rf "$ctx"
fi
# Images with package databases (vulnerability matching), from the fixtures.
PKG="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/packages"
build_pkg_image() {
  local tag=$1 dockerfile=$2; shift 2
  image_exists "$tag" && return 0
  say "building $tag"
  local ctx; ctx=$(mktemp -d)
  for f in "$@"; do cp "$PKG/$f" "$ctx/$(echo "$f" | tr / _)"; done
  printf '%s\n' "$dockerfile" > "$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 docker -H "unix://$SOCK" build -q -t "$tag" "$ctx" >/dev/null 2>&1 \
    || { say "building $tag failed"; rm -rf "$ctx"; exit 1; }
  rm -rf "$ctx"
}
build_pkg_image shipshape-test/debian12:1 "FROM shipshape-test/base:1
COPY debian12_os-release /usr/lib/os-release
COPY debian12_status /var/lib/dpkg/status
RUN mkdir -p /usr/bin && ln -s ../usr/lib/os-release /etc/os-release && cp /bin/busybox /usr/bin/passwd && chmod 4755 /usr/bin/passwd
CMD [\"sleep\",\"3600\"]" debian12/os-release debian12/status
build_pkg_image shipshape-test/distroless:1 "FROM shipshape-test/base:1
COPY debian12_os-release /etc/os-release
COPY debian12_status /var/lib/dpkg/status.d/base
COPY debian12_os-release /var/lib/dpkg/status.d/base.md5sums
CMD [\"sleep\",\"3600\"]" debian12/os-release debian12/status
build_pkg_image shipshape-test/debian11:1 "FROM shipshape-test/base:1
COPY debian11_os-release /etc/os-release
COPY debian11_status /var/lib/dpkg/status
CMD [\"sleep\",\"3600\"]" debian11/os-release debian11/status
build_pkg_image shipshape-test/alpine322:1 "FROM shipshape-test/base:1
COPY alpine322_os-release /etc/os-release
COPY alpine322_repositories /etc/apk/repositories
COPY alpine322_installed /lib/apk/db/installed
CMD [\"sleep\",\"3600\"]" alpine322/os-release alpine322/repositories alpine322/installed
build_pkg_image shipshape-test/rocky9:1 "FROM shipshape-test/base:1
COPY rocky9_os-release /etc/os-release
CMD [\"sleep\",\"3600\"]" rocky9/os-release
say "engine ready on $SOCK"
