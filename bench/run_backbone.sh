#!/bin/sh
# Backbone benchmark: the C library next to PyTorch in the same run.
#   bench/run_backbone.sh [BUILD_DIR] [RUNS]
# BUILD_DIR defaults to build; RUNS to 20. Threads: 2 (FF_BENCH_THREADS).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-20}
threads=${FF_BENCH_THREADS:-2}
export FF_SHARED_DIR=${FF_SHARED_DIR:-$here/../../shared}
c_out=$("$build/bench/bench_backbone" --runs "$runs" --threads "$threads")
py_out=$(/usr/bin/python3 "$here/backbone_ref.py" --runs "$runs" --threads "$threads")
echo "$c_out"
echo "$py_out"
for b in 1 8; do
    c=$(echo "$c_out" | sed -n "s/.*batch $b: min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    p=$(echo "$py_out" | sed -n "s/.*batch $b: min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    echo "$c $p" | awk -v b="$b" '{ printf "batch %s: PyTorch/C speed ratio %.2f (min), %.2f (median); >1 means C is faster\n", b, $3/$1, $4/$2 }'
done
