#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input: libFuzzer, through
# cargo-fuzz, on the targets in src/fuzz.rs (the same functions `cargo test`
# runs briefly in tests/fuzz.rs). Seeds come from tests/fixtures and friends;
# the corpus grows in fuzz/corpus/<target>; crashes land in
# fuzz/artifacts/<target> (add each as a regression test in tests/fuzz.rs).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, all)
#
# Stable Rust only: cargo-fuzz builds with `--sanitizer none` (AddressSanitizer
# needs nightly's -Z flags; Rust code without `unsafe` gains little from it),
# so the run is libFuzzer's coverage guidance plus Rust's own checks
# (debug assertions and overflow checks stay on).
# Prints a table of executions, time and crashes per target, and writes it to
# bench/fuzz-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seeds=$PWD/fuzz/seeds
rm -rf "$seeds"
SHIPSHAPE_FUZZ_SEEDS=$seeds cargo test -q --test fuzz write_seed_corpus -- --ignored >/dev/null

if [ $# -gt 0 ]; then targets=("$@"); else
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi

cd fuzz
# Build once, then run the binaries directly (a `cargo fuzz run` per target
# would rebuild whenever the sources moved meanwhile).
cargo fuzz build --sanitizer none --debug-assertions
bindir=$(ls -d target/*/release | head -1)
rows=()
crashed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  set +e
  "$bindir/$t" "corpus/$t" "$seeds/$t" -artifact_prefix="artifacts/$t/" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=262144 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' || echo "$secs")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo "?")
  corpus=$(ls "corpus/$t" | wc -l)
  found=$(ls "artifacts/$t" | wc -l)
  [ "$rc" -eq 0 ] || { crashed=1; echo "== $t: libFuzzer exited $rc"; tail -40 "$log"; }
  rows+=("| $t | $runs | $took s | $((runs / (took > 0 ? took : 1)))/s | $cov | $corpus | $found |")
  rm -f "$log"
done
cd ..
{
  echo "# Fuzzing results"
  echo
  echo "\`scripts/fuzz.sh $secs\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(rustc --version)."
  echo "libFuzzer via cargo-fuzz, \`--sanitizer none --debug-assertions\`."
  echo
  echo "| target | executions | time | rate | coverage (edges) | corpus | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
} | tee bench/fuzz-results.md
exit $crashed
