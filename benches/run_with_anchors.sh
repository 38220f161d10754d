#!/usr/bin/env bash
# One benchmark run of mapfit next to the anchors (docs/benchmarks.md), sequentially, so that
# no two timed jobs share the machine:
#   1. build examples/bench            4. extra anchors (ridge_path, lasso_cv): Python, R
#   2. R glmnet anchors (bench_glmnet.R) 5. assess.py: accuracy of every anchor run
#   3. Python anchors (bench_python.py)  6. mapfit's bench           7. the table
#
# Usage: benches/run_with_anchors.sh BENCH_DIR
#   BENCH_DIR: a writable copy of ../shared/bench with setup.sh done (.venv, R glmnet) and
#              data/ written (run_anchors.sh once, or `.venv/bin/python make_data.py` and
#              `.venv/bin/python -c "import common; common.write_problems()"`).
# Environment:
#   CLOCK=cpu|wall   (default cpu) CPU time of the process for every tool: glmnet through
#                    proc.time(), Python through time.process_time(), mapfit --clock cpu
#   OUT=DIR          (default BENCH_DIR/results/mapfit) where the JSON lines and table go
#   SKIP_ANCHORS=1   reuse the anchors' results already in BENCH_DIR/results
#   DATASETS="a b"   restrict every step to these datasets
#   CARGO_TARGET_DIR as usual for the build
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$(cd "${1:?usage: $0 BENCH_DIR}" && pwd)
CLOCK=${CLOCK:-cpu}
OUT=${OUT:-$BENCH/results/mapfit}
DS=${DATASETS:-}
PY=$BENCH/.venv/bin/python
mkdir -p "$OUT"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
       VECLIB_MAXIMUM_THREADS=1 NUMEXPR_NUM_THREADS=1
t0=$(date +%s)
step() { echo "=== $* ($(( $(date +%s) - t0 )) s)" >&2; }

step "1. build"
(cd "$REPO" && cargo build --release --example bench)
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/examples/bench

if [ "${SKIP_ANCHORS:-0}" != 1 ]; then
  step "2. R glmnet ($CLOCK clock)"
  if [ "$CLOCK" = cpu ]; then
    # bench_glmnet.R times with Sys.time(); a copy next to it times with proc.time().
    sed 's/^now <- function() as.numeric(Sys.time())$/now <- function() { t <- proc.time(); t[[1]] + t[[2]] }/' \
      "$BENCH/bench_glmnet.R" > "$BENCH/bench_glmnet_cpu.R"
    grep -q 'proc.time' "$BENCH/bench_glmnet_cpu.R" || { echo "clock patch failed" >&2; exit 1; }
    (cd "$BENCH" && Rscript bench_glmnet_cpu.R $DS) >&2
    rm -f "$BENCH/bench_glmnet_cpu.R"
  else
    (cd "$BENCH" && Rscript bench_glmnet.R $DS) >&2
  fi

  step "3. Python anchors ($CLOCK clock)"
  PATCH=""
  [ "$CLOCK" = cpu ] && PATCH="time.perf_counter = time.process_time;"
  (cd "$BENCH" && "$PY" -c "import sys, time, runpy; $PATCH sys.argv = ['bench_python.py'] + sys.argv[1:]; runpy.run_path('bench_python.py', run_name='__main__')" \
     ${DS:+--datasets $DS}) >&2

  step "4. extra anchors: ridge_path, lasso_cv"
  BENCH=$BENCH "$PY" "$REPO/benches/anchors/extra_tasks.py" --clock "$CLOCK" ${DS:+--datasets $DS} \
    > "$OUT/extra_py.jsonl"
  BENCH=$BENCH Rscript "$REPO/benches/anchors/extra_tasks.R" "$CLOCK" $DS > "$OUT/extra_R.jsonl"

  step "5. accuracy of the anchor runs (assess.py)"
  (cd "$BENCH" && "$PY" assess.py) >&2
fi

step "6. mapfit"
: > "$OUT/mapfit.jsonl"
if [ -z "$DS" ]; then
  "$BIN" --data "$BENCH/data" --clock "$CLOCK" | tee "$OUT/mapfit.jsonl" >&2
else
  first=1
  for d in $DS; do
    if [ $first = 1 ]; then
      "$BIN" --data "$BENCH/data" --clock "$CLOCK" --dataset "$d" | tee -a "$OUT/mapfit.jsonl" >&2
      bw=$(head -1 "$OUT/mapfit.jsonl" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['machine']['stream_read_GBps'])")
      first=0
    else
      "$BIN" --data "$BENCH/data" --clock "$CLOCK" --dataset "$d" --bandwidth "$bw" \
        | grep -v '"machine"' | tee -a "$OUT/mapfit.jsonl" >&2
    fi
  done
fi

step "7. table"
"$PY" "$REPO/benches/anchors/compare.py" --bench "$BENCH" --mapfit "$OUT/mapfit.jsonl" \
  --extra "$OUT/extra_py.jsonl" "$OUT/extra_R.jsonl" > "$OUT/table.md"
echo "$OUT/table.md" >&2
step "done"
