#!/bin/sh
# The figures of docs/results.md: trains and evaluates libfastflow and the PyTorch reference, the same way
# (resnet18, 3x3-only, 8 steps, batch 32, EPOCHS epochs, seed 0), on every data set under shared/datasets,
# with tools/train_eval_category.sh, then writes the table with tools/reference/results_table.py.
#
# usage: tools/results_mvtec.sh [BUILD_DIR] [OUT_DIR] [CATEGORY...]
#   env: FF_SHARED_DIR (default ../shared), EPOCHS (10), THREADS (2), REUSE (1: keep libfastflow's outputs of an
#        earlier run and rerun only the reference; see train_eval_category.sh)
# Takes about an hour on 2 cores (magnetic_tile has 761 training images); run it alone.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/fastflow-results}
shift 2 2>/dev/null || shift $#
CATEGORIES=${*:-bottle magnetic_tile mpdd_metal_plate}
mkdir -p "$OUT"
for c in $CATEGORIES; do
    echo "==== $c"
    sh "$ROOT/tools/train_eval_category.sh" "$BUILD" "$OUT/$c" "$c"
done
# shellcheck disable=SC2086
/usr/bin/python3 "$ROOT/tools/reference/results_table.py" --out "$OUT" --epochs "${EPOCHS:-10}" $CATEGORIES \
    | tee "$OUT/results.md"
