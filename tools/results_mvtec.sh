#!/bin/sh
# The figures of docs/results.md: trains and evaluates libfastflow and the PyTorch reference, the same way
# (resnet18, 3x3-only, 8 steps, batch 32, EPOCHS epochs, seed 0), on every data set under shared/datasets,
# with tools/train_eval_category.sh, then writes the table with tools/reference/results_table.py.
#
# usage: tools/results_mvtec.sh [BUILD_DIR] [OUT_DIR] [CATEGORY...]
#   env: FF_SHARED_DIR (default ../shared), EPOCHS (10), THREADS (2), REUSE (1: keep libfastflow's outputs of an
#        earlier run and rerun only the reference; see train_eval_category.sh),
#        SEEDS (default "0"; e.g. "0 1 2": every category once per seed, both sides starting from that seed's
#        initial flow and order; seed 0 goes to OUT/CATEGORY, seed S to OUT/CATEGORY-seedS, and the table
#        gains a per-seed table with the means)
# Takes about an hour on 2 cores per seed (magnetic_tile has 761 training images); run it alone.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/fastflow-results}
shift 2 2>/dev/null || shift $#
CATEGORIES=${*:-bottle magnetic_tile mpdd_metal_plate}
mkdir -p "$OUT"
for seed in ${SEEDS:-0}; do
    for c in $CATEGORIES; do
        dir=$OUT/$c
        if [ "$seed" != 0 ]; then dir=$OUT/$c-seed$seed; fi
        echo "==== $c (seed $seed)"
        SEED=$seed sh "$ROOT/tools/train_eval_category.sh" "$BUILD" "$dir" "$c"
    done
done
# shellcheck disable=SC2086
/usr/bin/python3 "$ROOT/tools/reference/results_table.py" --out "$OUT" --epochs "${EPOCHS:-10}" $CATEGORIES \
    | tee "$OUT/results.md"
