#!/bin/sh
# Contention benchmark (issue 12 item 9): flow scoring and a training step
# with 0, 1 and 2 busy background processes (a shell busy loop each),
# libfastflow next to the PyTorch reference (bench/flow_ref.py, Debian's
# python3-torch), for each OpenMP wait policy of libgomp:
#   active   GOMP_SPINCOUNT and OMP_WAIT_POLICY unset: libgomp's default
#            (spin ~300000 iterations before sleeping)
#   spinN    GOMP_SPINCOUNT=N (spin briefly, then sleep); spin10k = spin10000
#   passive  OMP_WAIT_POLICY=passive (sleep at once)
# (libgomp reads these when it starts, so each run is a fresh process. The
# fastflow command sets its own default before libgomp starts,
# tools/fastflow/omp_wait.c; bench_flow does not, so "active" here is
# libgomp's own default.)
#
#   bench/run_contention.sh [BUILD_DIR] [RUNS] [TRAIN_RUNS] [POLICIES]
# Defaults: build, 20, 5, "active spin10k passive"; threads: 2
# (FF_BENCH_THREADS); IMPLS="libfastflow pytorch" (which sides to run).
# Prints one table row per (policy, busy processes): median ms, the
# slowdown against the quiet run of the same policy, the slowdown against
# the quiet run of the first policy ("x first": what a setting costs or
# saves in absolute terms), and the proportional slowdown (B + T) / T: the
# CPU share left when B busy loops and the T computing threads share T
# cores equally. Run on an otherwise quiet machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-20}
train_runs=${3:-5}
policies=${4:-"active spin10k passive"}
threads=${FF_BENCH_THREADS:-2}
impls=${IMPLS:-"libfastflow pytorch"}

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

printf "%-11s %-4s %-10s %9s %8s %8s %10s %8s %8s %12s\n" policy busy impl "infer b1" "x quiet" "x first" "train b32" "x quiet" "x first" "proportional"
for policy in $policies; do
    case $policy in
    active) envs="-u GOMP_SPINCOUNT -u OMP_WAIT_POLICY" ;;
    spin10k) envs="-u OMP_WAIT_POLICY GOMP_SPINCOUNT=10000" ;;
    spin[0-9]*) envs="-u OMP_WAIT_POLICY GOMP_SPINCOUNT=${policy#spin}" ;;
    passive) envs="-u GOMP_SPINCOUNT OMP_WAIT_POLICY=passive" ;;
    *) echo "unknown policy $policy" >&2; exit 2 ;;
    esac
    for impl in $impls; do
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
            # "x first" compares with the same implementation's quiet run
            # under the first policy (one variable per implementation)
            eval "f_inf=\${first_inf_$impl:-}; f_tr=\${first_tr_$impl:-}"
            [ -n "$f_inf" ] || { f_inf=$inf; f_tr=$tr; eval "first_inf_$impl=$inf; first_tr_$impl=$tr"; }
            echo "$policy $busy $impl $inf $q_inf $tr $q_tr $threads $f_inf $f_tr" | awk '{
                prop = ($2 + $8) / $8; if (prop < 1) prop = 1
                printf "%-11s %-4s %-10s %9.1f %8.2f %8.2f %10.1f %8.2f %8.2f %12.2f\n", $1, $2, $3, $4, $4 / $5, $4 / $9, $6, $6 / $7, $6 / $10, prop }'
        done
    done
done
