#!/bin/sh
# The stopping-criteria study of docs/results.md ("Choosing the epoch"):
# one select_study run per (set, seed), then the table.
#
# usage: tools/study/run_select_study.sh [BUILD_DIR] [OUT_DIR]
#   env: FF_SHARED_DIR (default ../shared), SEEDS ("0 1 2"), MAX_EPOCHS (12), THREADS (1),
#        SETS (default "magnetic_tile bottle mpdd_metal_plate synth_crack_dent"), JOBS (2: runs in parallel)
# Sets: the three shared ones; synth_crack_dent is generated (granite, 100 training images, 20 good,
# 20 crack and 20 dent test images: defect kinds neither the demo nor the selection's synthetic anomalies
# draw); magnetic_tile's test metrics are also reported for two groups of defect types, "tune"
# (blowhole, break, crack) and "heldout" (fray, uneven).
# Each run writes OUT/SET-seedS.jsonl (skipped when it already holds max-epochs lines). Several hours on a
# quiet 2-core machine; runs at nice 19.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/fastflow-select}
SHARED=${FF_SHARED_DIR:-$ROOT/../shared}
MAX_EPOCHS=${MAX_EPOCHS:-12}
THREADS=${THREADS:-1}
JOBS=${JOBS:-2}
WEIGHTS=$SHARED/weights/resnet18-in1k-to-layer3.safetensors
mkdir -p "$OUT"
SYNTH=$OUT/data/synth_crack_dent
if [ ! -d "$SYNTH/train" ]; then
    "$BUILD/tools/study/make_synth_set" "$SYNTH" granite 7 crack,dent 100 20 20
fi

run() { # set seed
    set_dir=$SHARED/datasets/$1
    groups=""
    case $1 in
    synth_crack_dent) set_dir=$SYNTH ;;
    magnetic_tile) groups="--group all=* --group tune=blowhole,break,crack --group heldout=fray,uneven" ;;
    esac
    f=$OUT/$1-seed$2.jsonl
    if [ -f "$f" ] && [ "$(grep -c '"epoch"' "$f")" -ge "$MAX_EPOCHS" ] && grep -q ema_epoch "$f"; then return 0; fi
    # shellcheck disable=SC2086
    nice -n 19 "$BUILD/tools/study/select_study" --data "$set_dir" --weights "$WEIGHTS" --seed "$2" \
        --max-epochs "$MAX_EPOCHS" --threads "$THREADS" $groups --out "$f.part" 2>"$OUT/$1-seed$2.log" &&
        mv "$f.part" "$f"
}

# (set, seed) pairs, seed-major so that every set has seed 0 early; JOBS workers each take the next
# unclaimed pair (mkdir is the lock)
pairs=""
for seed in ${SEEDS:-0 1 2}; do
    for s in ${SETS:-magnetic_tile bottle mpdd_metal_plate synth_crack_dent}; do pairs="$pairs $s:$seed"; done
done
rm -rf "$OUT/.claims"
mkdir -p "$OUT/.claims"
q=0
while [ "$q" -lt "$JOBS" ]; do
    (
        for p in $pairs; do
            if mkdir "$OUT/.claims/$p" 2>/dev/null; then run "${p%%:*}" "${p##*:}"; fi
        done
    ) &
    q=$((q + 1))
done
wait
/usr/bin/python3 "$ROOT/tools/study/select_table.py" "$OUT" | tee "$OUT/table.md"
