#!/usr/bin/env bash
# Overhead of the Python package against the sigma command: the same encode of a large
# file, timed as whole processes with GNU time (wall seconds and peak resident memory).
#
# Usage: python/bench_overhead.sh [--runs N] [--level L] [--instructions MIB] [FILE]
#   FILE      input to encode (default: the first GiB of linux.tar from the corpora,
#             $CORPORA or ./corpora, built by ../shared/corpora/build.sh when missing)
#   --runs N  timed runs per side, alternating (default 3; the median of the pairs' ratios
#             and the medians are reported; 0: none)
#   --level L compression level for both sides (default 3)
#   --instructions MIB  also count the instructions of both sides (valgrind's callgrind,
#             all threads) on the first MIB MiB of FILE, and of `import sigmalang` alone:
#             counts do not depend on what else the machine is doing
# Environment: PYTHON, an interpreter that already has sigmalang installed (default: a
# fresh venv in the work folder with `pip install ./python`).
#
# Like with like: both sides encode FILE with the automatic chunk size and one worker per
# core into a file in the same folder (temporary file, synced, renamed), the CLI as
# `sigma encode -f -o OUT FILE`, Python as `StreamingEncoder().encode_file(FILE, OUT)` in a
# new interpreter (its start-up and import are part of the overhead). Before every run the
# input is read once into the page cache, the previous output removed and dirty pages
# synced.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=3; LEVEL=3; INPUT=""; INSTR_MIB=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift ;;
    --level) LEVEL=$2; shift ;;
    --instructions) INSTR_MIB=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) INPUT=$1 ;;
  esac
  shift
done
log() { printf '[bench_overhead] %s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { log "GNU time is needed (apt-get install time)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sigma-pybench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ -z "$INPUT" ]; then
  CORPORA=${CORPORA:-$ROOT/corpora}
  if [ ! -s "$CORPORA/linux.tar" ]; then
    log "building corpora in $CORPORA"
    bash "$ROOT/../shared/corpora/build.sh" "$CORPORA"
  fi
  INPUT=$WORK/linux-1G.tar
  head -c $((1 << 30)) "$CORPORA/linux.tar" > "$INPUT"
fi

log "building sigma (release)"
cargo build --release -q --bin sigma
SIGMA=$ROOT/target/release/sigma

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  log "installing the package into a fresh venv (release build)"
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "$ROOT/python"
  PY=$WORK/venv/bin/python
fi
"$PY" -c 'import sigmalang' || { log "$PY cannot import sigmalang"; exit 1; }

OUT=$WORK/out.sigma
ENCODE_PY='import sys
from sigmalang import StreamingEncoder
StreamingEncoder(level=int(sys.argv[3])).encode_file(sys.argv[1], sys.argv[2])'

# Busy CPU seconds of the whole machine so far (all processes, from /proc/stat).
busy() { awk '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / 100 }' /proc/stat; }

# One timed run: prepares the cache and the output folder, prints
# "wall_seconds peak_kib user_seconds system_seconds others_cpu_seconds", the last being
# the CPU time other processes used meanwhile (a sign of a shared, noisy machine).
run() {
  rm -f "$OUT"
  cat "$INPUT" > /dev/null
  sync
  local before after
  before=$(busy)
  /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$@" > /dev/null
  after=$(busy)
  awk -v b="$before" -v a="$after" '{ o = a - b - $3 - $4; if (o < 0) o = 0; printf "%s %s %s %s %.2f\n", $1, $2, $3, $4, o }' "$WORK/time"
}

if [ "$INSTR_MIB" -gt 0 ]; then
  command -v valgrind >/dev/null || { log "valgrind is needed (apt-get install valgrind)"; exit 1; }
  SLICE=$WORK/slice
  head -c $((INSTR_MIB << 20)) "$INPUT" > "$SLICE"
  count() {  # instructions of a whole command, all threads
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
      awk '/Collected :/ { print $4 }'
  }
  log "counting instructions on the first $INSTR_MIB MiB (valgrind; takes minutes)"
  cli_i=$(count "$SIGMA" encode -q -f -L "$LEVEL" -o "$OUT" "$SLICE")
  py_i=$(count "$PY" -c "$ENCODE_PY" "$SLICE" "$OUT" "$LEVEL")
  imp_i=$(count "$PY" -c 'import sigmalang')
  echo "| $INSTR_MIB MiB slice | instructions |"
  echo "|---|---:|"
  echo "| sigma encode | $cli_i |"
  echo "| Python encode_file | $py_i |"
  echo "| python -c 'import sigmalang' alone | $imp_i |"
  awk -v c="$cli_i" -v p="$py_i" -v i="$imp_i" 'BEGIN {
    printf "\nPython - CLI: %+d instructions (%+.2f%%); interpreter start-up and import alone: %d\n\n",
      p - c, (p - c) * 100 / c, i }'
fi
[ "$RUNS" -gt 0 ] || exit 0

log "input $INPUT ($(stat -c %s "$INPUT") bytes), level $LEVEL, $RUNS runs per side"
: > "$WORK/cli"; : > "$WORK/py"
for i in $(seq "$RUNS"); do
  r=$(run "$SIGMA" encode -q -f -L "$LEVEL" -o "$OUT" "$INPUT"); echo "$r" >> "$WORK/cli"
  log "run $i cli    $r"
  mv "$OUT" "$WORK/cli.sigma"
  r=$(run "$PY" -c "$ENCODE_PY" "$INPUT" "$OUT" "$LEVEL"); echo "$r" >> "$WORK/py"
  log "run $i python $r"
  cmp -s "$OUT" "$WORK/cli.sigma" || { log "the two outputs differ"; exit 1; }
  rm -f "$WORK/cli.sigma"
done

# The interpreter's own footprint: peak of a run that only imports the package.
/usr/bin/time -f '%M' -o "$WORK/import" "$PY" -c 'import sigmalang'

python3 - "$WORK/cli" "$WORK/py" "$(stat -c %s "$INPUT")" "$(cat "$WORK/import")" <<'EOF'
import statistics, sys

def load(path):
    rows = [tuple(map(float, line.split())) for line in open(path) if line.strip()]
    return (
        [r[0] for r in rows],
        [r[1] / 1024 for r in rows],
        [r[2] + r[3] for r in rows],
        [r[4] for r in rows],
    )

cli_t, cli_m, cli_c, cli_o = load(sys.argv[1])
py_t, py_m, py_c, py_o = load(sys.argv[2])
size = int(sys.argv[3])
med = statistics.median
print("| side | wall s per run | median wall s | MB/s | median CPU s | median peak MiB | others' CPU s per run |")
print("|---|---|---:|---:|---:|---:|---|")
sides = (("sigma encode", cli_t, cli_m, cli_c, cli_o), ("Python encode_file", py_t, py_m, py_c, py_o))
for name, ts, ms, cs, os_ in sides:
    runs = " ".join(f"{x:.2f}" for x in ts)
    others = " ".join(f"{x:.1f}" for x in os_)
    print(f"| {name} | {runs} | {med(ts):.2f} | {size / 1e6 / med(ts):.1f} | {med(cs):.2f} | {med(ms):.1f} | {others} |")
# Each Python run follows its CLI run, so the ratio within a pair cancels the drift of a
# shared machine; the median of the pairs' ratios is the figure.
wall = med(p / c for p, c in zip(py_t, cli_t))
cpu = med(p / c for p, c in zip(py_c, cli_c))
print(f"\nPython / CLI, median of the {len(cli_t)} pairs' ratios: wall time {wall:.3f}x "
      f"({(wall - 1) * 100:+.1f}%), CPU time {cpu:.3f}x ({(cpu - 1) * 100:+.1f}%); "
      f"medians alone: wall {med(py_t) / med(cli_t):.3f}x, CPU {med(py_c) / med(cli_c):.3f}x; "
      f"peak memory {med(py_m) - med(cli_m):+.1f} MiB")
interp = int(sys.argv[4]) / 1024
print(f"The interpreter with sigmalang imported peaks at {interp:.1f} MiB on its own; the "
      f"Python encode's peak less that is {med(py_m) - interp:.1f} MiB, the CLI's {med(cli_m):.1f} MiB.")
EOF
