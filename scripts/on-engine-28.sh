#!/usr/bin/env bash
# Run a command (the test suite) against a current Docker Engine (28.x) when
# the machine's own engine is older, without touching the system engine.
#
#   scripts/on-engine-28.sh cargo test
#
# - If the engine on /var/run/docker.sock is already 28 or newer, the
#   command has nothing to add: it says so and exits 0 (CI's first pass,
#   plain `cargo test`, ran on that engine).
# - Otherwise it fetches Debian's docker.io 28 and containerd 2 packages
#   (the unstable suite, from the Debian mirror apt already uses; the
#   binaries need glibc 2.34, which bookworm has), unpacks them under
#   $SHIPSHAPE_ENGINE28_CACHE (never installs them: the system engine and its
#   packages stay as they are), and starts a private dockerd: its own socket,
#   data root, exec root, pid file and /etc/docker, in its own network
#   namespace (a second dockerd in the host's would break the first one's
#   docker0) and mount namespace. runc is the machine's own (sid's needs
#   glibc 2.38).
# - The command then runs in a private mount namespace in which
#   /var/run/docker.sock is that engine's socket, so every test — including
#   discovery and the ones that name the default socket — talks to Engine 28.
#   Private engines the tests start themselves run its dockerd too (PATH).
# - Everything is removed afterwards, pass or fail (the cache stays).
set -euo pipefail

say() { printf 'on-engine-28: %s\n' "$*" >&2; }
[ $# -gt 0 ] || { say "usage: $0 COMMAND [ARG...]"; exit 2; }
[ "$(id -u)" = 0 ] || { say "needs root (a private engine and namespaces)"; exit 1; }

major() { docker -H "unix://$1" version --format '{{.Server.Version}}' 2>/dev/null | cut -d. -f1; }
sys=$(major /var/run/docker.sock || true)
if [ -n "$sys" ] && [ "$sys" -ge 28 ] 2>/dev/null; then
  say "the system engine is already Engine $sys: nothing to add"
  exit 0
fi

CACHE=${SHIPSHAPE_ENGINE28_CACHE:-/var/cache/shipshape-test/engine-28}
BIN=$CACHE/bin
if [ ! -x "$BIN/dockerd" ] || [ ! -x "$BIN/containerd" ]; then
  say "fetching Debian's docker.io 28 and containerd 2 (unstable) into $CACHE"
  apt_dir=$(mktemp -d)
  trap 'rm -rf "$apt_dir"' EXIT
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  mirror=${mirror:-$(awk '/^deb .*debian/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)}
  mirror=${mirror:-http://deb.debian.org/debian}
  mkdir -p "$apt_dir"/lists/partial "$apt_dir"/cache/archives/partial "$apt_dir"/debs
  echo "deb $mirror sid main" > "$apt_dir/sources.list"
  A=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
  apt-get "${A[@]}" update -qq >/dev/null
  ver=$(apt-cache "${A[@]}" policy docker.io | sed -n 's/^ *Candidate: *//p')
  case "$ver" in
    28.*|29.*|3[0-9].*) ;;
    *) say "Debian unstable offers docker.io '$ver', not 28 or newer"; exit 1 ;;
  esac
  (cd "$apt_dir/debs" && apt-get "${A[@]}" download -qq docker.io containerd >/dev/null)
  rm -rf "$CACHE.new" && mkdir -p "$CACHE.new/root" "$CACHE.new/bin"
  for deb in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$CACHE.new/root"; done
  for f in usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/containerd usr/bin/containerd-shim-runc-v2; do
    cp -a "$CACHE.new/root/$f" "$CACHE.new/bin/"
  done
  rm -rf "$CACHE.new/root" "$CACHE"
  mkdir -p "$(dirname "$CACHE")" && mv "$CACHE.new" "$CACHE"
  rm -rf "$apt_dir"; trap - EXIT
fi
# The machine's runc and docker-init (tini): sid's runc needs a newer glibc.
ln -sf "$(command -v runc)" "$BIN/runc"
ln -sf "$(command -v docker-init || command -v tini)" "$BIN/docker-init"

D=$(mktemp -d /tmp/ssit-e28-XXXX)
NETNS=ssit-e28-$$
SOCK=$D/d.sock
cleanup() {
  local pid; pid=$(cat "$D/pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  ip netns del "$NETNS" 2>/dev/null || true
  rm -rf "$D"
}
trap cleanup EXIT
mkdir -p "$D/etc"
ip netns add "$NETNS"
nsenter --net="/var/run/netns/$NETNS" ip link set lo up
PATH=$BIN:$PATH setsid nsenter --net="/var/run/netns/$NETNS" \
  unshare --mount --propagation private sh -c \
  "mount --bind $D/etc /etc/docker && exec dockerd --host unix://$SOCK --data-root $D/data \
   --exec-root $D/exec --pidfile $D/pid --shutdown-timeout 2" >"$D/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 1 150); do [ -n "$(major "$SOCK")" ] && break; sleep 0.2; done
v=$(docker -H "unix://$SOCK" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) \
  || { say "the private engine did not come up:"; tail -20 "$D/dockerd.log" >&2; exit 1; }
say "Engine $v on $SOCK; running: $*"
# /var/run/docker.sock is that engine's socket for the command alone.
# Its network namespace is named for tests whose servers the engine itself
# must reach on 127.0.0.1 (tests/integrity.rs starts its registry there).
export SHIPSHAPE_ENGINE_NETNS=/var/run/netns/$NETNS
set +e
PATH=$BIN:$PATH unshare --mount --propagation private sh -c \
  'mount --bind "$0" /var/run/docker.sock && exec "$@"' "$SOCK" "$@"
rc=$?
set -e
say "command exited $rc on Engine $v"
exit $rc
