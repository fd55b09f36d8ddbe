#!/usr/bin/env bash
# Peak memory of `shipshape scan --kube-context` against a hostile API server
# (issue 39: D11, D12): the fake of tests/common/kube.rs, served by the
# ignored helper `serve_fake_cluster` in each of its hostile modes, and
# shipshape measured with /usr/bin/time -v. Writes bench/kube-hostile-results.md.
#
#   scripts/bench-kube-hostile.sh [--release]
#
# Debug builds by default (what the worktrees have; heap sizes are the same
# as release, only slower).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
flags=()
if [ "${1:-}" = "--release" ]; then profile=release; flags=(--release); fi
cargo build -q "${flags[@]}" --bin shipshape
helper=$(cargo test "${flags[@]}" --test kube --no-run 2>&1 | sed -n 's/.*Executable tests\/kube.rs (\(.*\))/\1/p')
bin=$PWD/target/$profile/shipshape
tmp=$(mktemp -d)
spid=
stop() { if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; spid=; fi; }
trap 'stop; rm -rf "$tmp"' EXIT

# One mode: serve it, scan once, print a table row.
run() {
  local label=$1; shift
  rm -f "$tmp/kubeconfig"
  env KUBE_FAKE_DIR="$tmp" HOLD=600 "$@" "$helper" serve_fake_cluster --ignored --exact >"$tmp/serve.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do [ -s "$tmp/kubeconfig" ] && break; sleep 0.1; done
  set +e
  /usr/bin/time -v "$bin" --no-audit --kubeconfig "$tmp/kubeconfig" scan --kube-context lab \
    --no-vulns -q -o "$tmp/out.json" 2>"$tmp/err.log"
  local rc=$?
  set -e
  stop
  local rss secs said
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$tmp/err.log")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/err.log")
  said=$(grep -m1 '^shipshape:' "$tmp/err.log" || python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["warnings"]))' "$tmp/out.json")
  printf '| %s | %s | %s | %.1f | %s |\n' "$label" "$rc" "$secs" "$(echo "$rss / 1024" | bc -l)" "$said"
}

{
  echo "# Hostile Kubernetes API server: \`scripts/bench-kube-hostile.sh\`"
  echo
  echo "$(date -u +%F), $(nproc) cores, $profile build. \`shipshape scan --kube-context\` once against the"
  echo "fake API server of \`tests/common/kube.rs\` in each hostile mode; peak RSS from \`/usr/bin/time -v\`."
  echo
  echo "| server | exit | wall | peak RSS (MiB) | what shipshape says |"
  echo "|---|---:|---:|---:|---|"
  run "the lab (37 pods), honest" KUBE_FAKE_MODE=lab
  run "one chunked PodList of 3,000,000 pods, \`limit\` ignored (D12)" KUBE_FAKE_MODE=huge
  run "pages of 20,000 pods (~2.5 KB each), \`continue\` forever" KUBE_FAKE_MODE=fat PODS_PER_PAGE=20000
  run "pages of 2,800 pods of ~22 KB (~63 MB a page), \`continue\` forever" KUBE_FAKE_MODE=fat PODS_PER_PAGE=2800 POD_PADDING=20000
  run "empty pages, \`continue\` forever (D11)" KUBE_FAKE_MODE=endless
} | tee "$tmp/results.md"
cp "$tmp/results.md" bench/kube-hostile-results.md
