#!/usr/bin/env bash
# How many very short processes each process source catches, and the CPU
# the watcher uses at about 100 starts per second. Needs root (the kernel
# connector) and the local engine. Writes the figures to stdout; the
# results of a run are kept in bench/runtime-results.md.
#
#   BENCH_N=10000 scripts/bench-runtime.sh          # debug build
#   PROFILE=--release scripts/bench-runtime.sh      # release build
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_N="${BENCH_N:-2000}" cargo test ${PROFILE:-} --test runtime bench_sources -- \
  --ignored --nocapture 2>&1 | grep '^BENCH' | sed 's/^BENCH //'
