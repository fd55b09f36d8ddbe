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

# One mode: serve it, run shipshape once (`scan`, or with WATCH=1 `watch`
# for 30 s, then SIGINT), print a table row.
run() {
  local label=$1; shift
  local cmd=(scan --kube-context lab --no-vulns -q -o "$tmp/out.json")
  if [ "${WATCH:-}" = 1 ]; then cmd=(watch --kube-context lab); fi
  rm -f "$tmp/kubeconfig"
  env KUBE_FAKE_DIR="$tmp" HOLD=600 "$@" "$helper" serve_fake_cluster --ignored --exact >"$tmp/serve.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do [ -s "$tmp/kubeconfig" ] && break; sleep 0.1; done
  set +e
  rm -f "$tmp/out.json"
  if [ "${WATCH:-}" = 1 ]; then
    timeout -s INT 30 /usr/bin/time -v "$bin" --no-audit --kubeconfig "$tmp/kubeconfig" \
      "${cmd[@]}" >/dev/null 2>"$tmp/err.log"
  else
    /usr/bin/time -v "$bin" --no-audit --kubeconfig "$tmp/kubeconfig" "${cmd[@]}" 2>"$tmp/err.log"
  fi
  local rc=$?
  set -e
  stop
  local rss secs said
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$tmp/err.log")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/err.log")
  if [ -s "$tmp/out.json" ]; then
    said=$(python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["warnings"]))' "$tmp/out.json")
  else
    said=$(grep '^shipshape:' "$tmp/err.log" | grep -v 'watching\|stopping\|stopped\|findings:' | head -1)
  fi
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
  run "scan: the lab (37 pods), honest" KUBE_FAKE_MODE=lab
  run "scan: one chunked PodList of 3,000,000 pods, \`limit\` ignored (D12)" KUBE_FAKE_MODE=huge
  run "scan: pages of 20,000 pods (0.7 KB of JSON each), \`continue\` forever" KUBE_FAKE_MODE=fat PODS_PER_PAGE=20000
  run "scan: pages of 2,800 pods of 21 KB (58 MB a page), \`continue\` forever" KUBE_FAKE_MODE=fat PODS_PER_PAGE=2800 POD_PADDING=20000
  run "scan: empty pages, \`continue\` forever (D11)" KUBE_FAKE_MODE=endless
  WATCH=1 run "watch (30 s): pages of 20,000 pods, \`continue\` forever" KUBE_FAKE_MODE=fat PODS_PER_PAGE=20000
  cat <<'NOTES'

Before the ceilings, the release binary of main at 39d89c5 was OOM-killed at 23.6 GB after 95 s
against a chunked PodList of 3,000,000 pods (docs of issue 39, D12), and paged for good (4,415
requests in 120 s) against an endless `continue` (D11).

Ceilings (`sources::kube::limits::LIMITS`): 64 MiB per answer, and per listing 256 MiB of answers,
50,000 objects, 1,000 pages, 300 s per read. The worst case is the object ceiling: a decoded pod
takes about 12 KiB in memory whatever its JSON (k8s-openapi's `Pod` is 2.4 KiB inline and each
`Container` 2.3 KiB), so 50,000 small pods cost what 50,000 honest pods do. The byte ceiling bounds
fat pods (14,000 pods of 21 KB). `watch` and the window hold the cluster's pods once more while a
snapshot is assessed.
NOTES
} | tee "$tmp/results.md"
cp "$tmp/results.md" bench/kube-hostile-results.md
