#!/bin/sh
# Contention benchmark (issue 12 item 9): flow scoring and a training step
# with 0, 1 and 2 busy background processes (a shell busy loop each),
# libfastflow next to the PyTorch reference (bench/flow_ref.py, Debian's
# python3-torch), for each OpenMP wait policy of libgomp:
#   active   libgomp's default (spin ~300000 iterations before sleeping)
#   spin10k  GOMP_SPINCOUNT=10000 (spin briefly, then sleep)
#   passive  OMP_WAIT_POLICY=passive (sleep at once)
# (libgomp reads these when it starts, so each run is a fresh process.)
#
#   bench/run_contention.sh [BUILD_DIR] [RUNS] [TRAIN_RUNS] [POLICIES]
# Defaults: build, 20, 5, "active spin10k passive"; threads: 2
# (FF_BENCH_THREADS). Prints one table row per (policy, busy processes):
# median ms, and the slowdown against the quiet run of the same policy,
# next to the proportional slowdown (B + T) / T: the CPU share left when B
# busy loops and the T computing threads share T cores equally.
# Run on an otherwise quiet machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-20}
train_runs=${3:-5}
policies=${4:-"active spin10k passive"}
threads=${FF_BENCH_THREADS:-2}

busy_pids=""
start_busy() {
    i=0
    while [ "$i" -lt "$1" ]; do
        sh -c 'while :; do :; done' &
        busy_pids="$busy_pids $!"
        i=$((i + 1))
    done
}
stop_busy() {
    for p in $busy_pids; do kill "$p" 2>/dev/null || true; done
    busy_pids=""
}
trap stop_busy EXIT INT TERM

median() { sed -n "s/.*flow $1: min [0-9.]* ms.*median \([0-9.]*\) ms.*/\1/p"; }

printf "%-8s %-4s %-10s %10s %10s %10s %10s %12s\n" policy busy impl "infer b1" "x quiet" "train b32" "x quiet" "proportional"
for policy in $policies; do
    case $policy in
    active) envs="" ;;
    spin10k) envs="GOMP_SPINCOUNT=10000" ;;
    passive) envs="OMP_WAIT_POLICY=passive" ;;
    *) echo "unknown policy $policy" >&2; exit 2 ;;
    esac
    for impl in libfastflow pytorch; do
        q_inf="" q_tr=""
        for busy in 0 1 2; do
            start_busy "$busy"
            sleep 1
            if [ "$impl" = libfastflow ]; then
                out=$(env $envs "$build/bench/bench_flow" --runs "$runs" --train-runs "$train_runs" --threads "$threads")
            else
                out=$(env $envs /usr/bin/python3 "$here/flow_ref.py" --runs "$runs" --train-runs "$train_runs" --threads "$threads")
            fi
            stop_busy
            inf=$(echo "$out" | median "inference batch 1")
            tr=$(echo "$out" | median "training step batch 32")
            [ -n "$q_inf" ] || { q_inf=$inf; q_tr=$tr; }
            echo "$policy $busy $impl $inf $q_inf $tr $q_tr $threads" | awk '{
                prop = ($2 + $8) / $8; if (prop < 1) prop = 1
                printf "%-8s %-4s %-10s %10.1f %10.2f %10.1f %10.2f %12.2f\n", $1, $2, $3, $4, $4 / $5, $6, $6 / $7, prop }'
        done
    done
done
