#!/bin/sh
# Flow benchmark: the C engine next to PyTorch in the same run.
#   bench/run_flow.sh [BUILD_DIR] [RUNS] [TRAIN_RUNS]
# BUILD_DIR defaults to build; RUNS to 20; TRAIN_RUNS to 3. Threads: 2
# (FF_BENCH_THREADS).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-20}
train_runs=${3:-3}
threads=${FF_BENCH_THREADS:-2}
c_out=$("$build/bench/bench_flow" --runs "$runs" --train-runs "$train_runs" --threads "$threads")
py_out=$(/usr/bin/python3 "$here/flow_ref.py" --runs "$runs" --train-runs "$train_runs" --threads "$threads")
echo "$c_out"
echo "$py_out"
for what in "inference batch 1" "inference batch 8" "training step batch 32"; do
    c=$(echo "$c_out" | sed -n "s/.*flow $what: min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    p=$(echo "$py_out" | sed -n "s/.*flow $what: min \([0-9.]*\) ms.*median \([0-9.]*\) ms.*/\1 \2/p")
    echo "$c $p" | awk -v w="$what" '{ printf "%s: PyTorch/C speed ratio %.2f (min), %.2f (median); >1 means C is faster\n", w, $3/$1, $4/$2 }'
done
