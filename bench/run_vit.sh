#!/bin/sh
# Transformer backbone benchmark: the C library next to PyTorch in the same
# run, random weights, batch 1.
#   bench/run_vit.sh [BUILD_DIR] [RUNS]
# BUILD_DIR defaults to build; RUNS to 3. Threads: 2 (FF_BENCH_THREADS).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-3}
threads=${FF_BENCH_THREADS:-2}
for arch in deit_base_distilled_patch16_384 cait_m48_448; do
    c_out=$("$build/bench/bench_vit" --arch "$arch" --runs "$runs" --threads "$threads")
    py_out=$(/usr/bin/python3 "$here/vit_ref.py" --arch "$arch" --runs "$runs" --threads "$threads")
    echo "$c_out"
    echo "$py_out"
    c=$(echo "$c_out" | sed -n "s/.*min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    p=$(echo "$py_out" | sed -n "s/.*min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    echo "$c $p" | awk -v a="$arch" '{ printf "%s: PyTorch/C speed ratio %.2f (min), %.2f (median); >1 means C is faster\n", a, $3/$1, $4/$2 }'
done
