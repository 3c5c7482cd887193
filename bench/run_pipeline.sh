#!/bin/sh
# End-to-end scoring of files (bench/bench_pipeline.c): where the time goes
# (read, decode, resize, backbone, flow, post-processing), network-only
# images/s, and ff_scorer_score_files images/s per BATCH:JOBS with its ratio
# to the network-only rate (target >= 0.9).
#   bench/run_pipeline.sh [BUILD_DIR] [RUNS]
# Threads: 2 (FF_BENCH_THREADS). Needs ../shared (weights, samples, sets).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
runs=${2:-5}
threads=${FF_BENCH_THREADS:-2}
shared=${FF_SHARED_DIR:-$here/../../shared}
weights=$shared/weights/resnet18-in1k-to-layer3.safetensors
bench="$build/bench/bench_pipeline --weights $weights --runs $runs --threads $threads"
echo "== 900x900 PNG samples (../shared/samples, without masks)"
$bench $(ls "$shared"/samples/bottle_*.png | grep -v _mask)
for set in bottle magnetic_tile mpdd_metal_plate; do
    echo "== $set test images"
    $bench "$shared/datasets/$set"
done
