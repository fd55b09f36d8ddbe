#!/usr/bin/env bash
# The README's Kubernetes screenshot, from a real window: Xvfb, the fake
# API server of tests/kube.rs serving the kubectl fixtures (context `lab`),
# and shipshape watching the system engine and that cluster. Selects the
# 30-replica Deployment and captures the screen.
#
#   scripts/screenshot-kube.sh [OUT]      (default docs/screenshots/kubernetes.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots/kubernetes.png}
bash scripts/engine-up.sh >/dev/null 2>&1
need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xwd >/dev/null || need+=(x11-apps)
command -v xdotool >/dev/null || need+=(xdotool)
[ -x /usr/bin/convert ] || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; fi
cargo build --release -q
cargo test -q --test kube --no-run 2>/dev/null
bin=$PWD/target/release/shipshape
work=$(mktemp -d)
export DISPLAY=:88 XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_CONFIG_HOME/shipshape" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
KUBE_FAKE_DIR=$work HOLD=120 cargo test -q --test kube serve_fake_cluster -- --ignored >/dev/null 2>&1 & fake=$!
Xvfb "$DISPLAY" -screen 0 1600x1000x24 >/dev/null 2>&1 & xvfb=$!
cleanup() { kill "$fake" "$xvfb" 2>/dev/null || true; pkill -f serve_fake_cluster 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$work/kubeconfig" ] && break; sleep 0.2; done
printf 'kube_contexts = ["lab"]\n' > "$XDG_CONFIG_HOME/shipshape/settings.toml"
# A session bus of its own, so the window has no "no session bus" notice.
dbus-run-session -- bash -c "
  '$bin' --no-audit --kubeconfig '$work/kubeconfig' --show shop/web/nginx >/dev/null 2>&1 &
  sleep 4
  xdotool search --name '^shipshape' windowsize 1560 960 windowmove 20 20 2>/dev/null || true
  sleep 6
  xwd -root -silent | /usr/bin/convert xwd:- '$out'
  kill %1 2>/dev/null
"
echo "$out"
