#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 1800) each, JOBS at a time (default 1),
# seeded with the conformance vectors and the generated seeds of tests/fuzz_seeds.rs
# (streams, damaged streams, bodies, entropy sections, manifests) and with inputs long
# enough to reach real frames; prints each target's executions and any crash.
# TARGETS (space-separated) runs only those, in that order.
# Needs the nightly toolchain and `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:-1800}
JOBS=${2:-1}
targets=${TARGETS:-$(cargo +nightly fuzz list)}
cargo +nightly fuzz build -O
(cd .. && SIGMA_FUZZ_SEEDS="$PWD/fuzz/corpus" cargo test --release --test tests fuzz_seeds -q)
for t in $targets; do
  mkdir -p "corpus/$t"
  cp ../tests/vectors/*.sigma "corpus/$t/" 2>/dev/null || true
done
run() {
  local t=$1
  cargo +nightly fuzz run -O "$t" -- -max_total_time="$SECONDS_EACH" -max_len=70000 \
    -detect_leaks=0 -print_final_stats=1 > "logs/$t.log" 2>&1 || echo "$t: FOUND A CRASH (see logs/$t.log and artifacts/$t)"
  printf '%-16s %s\n' "$t" "$(grep -E 'stat::number_of_executed_units' "logs/$t.log" | awk '{print $2 " executions"}')"
}
mkdir -p logs
export -f run; export SECONDS_EACH
printf '%s\n' $targets | xargs -P "$JOBS" -I{} bash -c 'run {}'
