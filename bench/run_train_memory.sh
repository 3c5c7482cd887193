#!/bin/sh
# Training memory with a feature-cache budget (FF_TRAINER_CACHE_MEMORY / --cache-memory):
#   1. wide_resnet50_2 (random weights; the flow at its default settings: 8 steps, alternating 3x3/1x1
#      kernels, hidden ratio 1.0), 3000 generated 256x256 images (7 MiB of features each: 21 GiB), one
#      epoch with a 4 GiB budget: the peak RSS (the target: under 5 GiB);
#   2. the same 3000 images with a 2 GiB budget, stopped after MAX_BATCHES batches (the peak RSS is reached
#      in the first batch): the budget that keeps the whole run under 5 GiB at batch 8;
#   3. the time per epoch with the budget against the unbounded cache, on a size that fits in memory
#      (IMAGES_FIT images, default 250 = 1.7 GiB of features) with a budget of a quarter of it.
# Case 1 takes about an hour on 2 cores; run the script alone (memory does not depend on the load, times do).
#   bench/run_train_memory.sh [BUILD_DIR]      env: THREADS (2), BATCH (8), IMAGES_FIT (250), MAX_BATCHES (20),
#                                                   CASES ("1 2 3")
set -eu
build=${1:-build}
threads=${THREADS:-2}
batch=${BATCH:-8}
fit=${IMAGES_FIT:-250}
maxb=${MAX_BATCHES:-20}
cases=${CASES:-1 2 3}
b="$build/bench/bench_train_memory --arch wide_resnet50_2 --batch $batch --threads $threads"
gib=1073741824
per=7340032 # bytes of features per image (4 x (256*64*64 + 512*32*32 + 1024*16*16))
for c in $cases; do
    case $c in
    1)
        echo "== 3000 images, 4 GiB budget, one epoch"
        $b --images 3000 --cache-memory $((4 * gib))
        ;;
    2)
        echo "== 3000 images, 2 GiB budget, the first $maxb batches"
        $b --images 3000 --cache-memory $((2 * gib)) --max-batches "$maxb"
        ;;
    3)
        echo "== $fit images, unbounded cache"
        $b --images "$fit"
        echo "== $fit images, budget of a quarter of their features"
        $b --images "$fit" --cache-memory $((fit * per / 4))
        ;;
    esac
done
