#!/bin/sh
# Training memory with a feature-cache budget (FF_TRAINER_CACHE_MEMORY / --cache-memory):
#   1. wide_resnet50_2 (random weights), 3000 generated 256x256 images (7 MiB of features each: 21 GiB), one
#      epoch with a 4 GiB budget: the peak RSS should stay under 5 GiB;
#   2. the time per epoch with the budget against the unbounded cache, on a size that fits in memory (IMAGES_FIT
#      images, default 500 = 3.5 GiB of features) with a budget of a quarter of it.
# Takes hours on 2 cores (WRN50's flows are 16x resnet18's); run it alone.
#   bench/run_train_memory.sh [BUILD_DIR]      env: THREADS (2), BATCH (8), IMAGES_FIT (500)
set -eu
build=${1:-build}
threads=${THREADS:-2}
batch=${BATCH:-8}
fit=${IMAGES_FIT:-500}
b="$build/bench/bench_train_memory --arch wide_resnet50_2 --batch $batch --threads $threads"
gib=1073741824
per=7340032 # bytes of features per image (4 x (256*64*64 + 512*32*32 + 1024*16*16))
echo "== 3000 images, 4 GiB budget"
$b --images 3000 --cache-memory $((4 * gib))
echo "== $fit images, unbounded cache"
$b --images "$fit"
echo "== $fit images, budget of a quarter of their features"
$b --images "$fit" --cache-memory $((fit * per / 4))
