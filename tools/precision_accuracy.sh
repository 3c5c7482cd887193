#!/bin/sh
# Accuracy of the fast precisions against fp32 on models trained in fp32: for each category, trains a model
# with `fastflow train` as tools/train_eval_category.sh does (resnet18, 3x3-only, 8 steps, batch 32, EPOCHS
# epochs, seed 0; skipped when OUT/CATEGORY/model.safetensors exists), then runs `fastflow eval --precision P`
# for P in fp32, bf16 (when the CPU has it) and winograd (skipped when OUT/CATEGORY/eval-P.json exists), and prints the table of docs/performance.md:
# image AUROC, pixel AUROC and PRO per precision and their differences from fp32.
#
# usage: tools/precision_accuracy.sh [BUILD_DIR] [OUT_DIR] [CATEGORY...]
#   env: FF_SHARED_DIR (default ../shared), EPOCHS (10), THREADS (2), TRAIN_LIMIT (0 = all training images;
#        N: the first N, through a folder of links, for a loaded machine)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/fastflow-precision}
shift 2 2>/dev/null || shift $#
CATEGORIES=${*:-bottle magnetic_tile mpdd_metal_plate}
SHARED=${FF_SHARED_DIR:-$ROOT/../shared}
EPOCHS=${EPOCHS:-10}
THREADS=${THREADS:-2}
LIMIT=${TRAIN_LIMIT:-0}
FF=$BUILD/tools/fastflow/fastflow
WEIGHTS=$SHARED/weights/resnet18-in1k-to-layer3.safetensors
PRECISIONS="fp32 winograd"
if ! grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
    echo "this CPU has no native bf16: bf16 is left out"
else
    PRECISIONS="fp32 bf16 winograd"
fi
for c in $CATEGORIES; do
    dir=$OUT/$c
    mkdir -p "$dir"
    data=$SHARED/datasets/$c
    if [ ! -f "$dir/model.safetensors" ]; then
        train_data=$data
        if [ "$LIMIT" != 0 ]; then
            train_data=$dir/data
            mkdir -p "$train_data/train/good"
            ls "$data/train/good" | head -n "$LIMIT" | while read -r f; do
                ln -sf "$data/train/good/$f" "$train_data/train/good/$f"
            done
        fi
        echo "== $c: fastflow train ($EPOCHS epochs)"
        "$FF" train --data "$train_data" --backbone resnet18 --weights "$WEIGHTS" --epochs "$EPOCHS" --batch 32 \
            --flow-steps 8 --conv3x3-only --seed 0 --threads "$THREADS" --out "$dir/model.safetensors" \
            > "$dir/train.log"
    fi
    for p in $PRECISIONS; do
        [ -f "$dir/eval-$p.json" ] && continue # done in an earlier run
        echo "== $c: fastflow eval --precision $p"
        "$FF" eval --model "$dir/model.safetensors" --data "$data" --threads "$THREADS" --precision "$p" \
            --json "$dir/eval-$p.json" > "$dir/eval-$p.log"
    done
done
/usr/bin/python3 - "$OUT" $CATEGORIES <<'PY'
import json, os, sys
out, cats = sys.argv[1], sys.argv[2:]
print("| set | precision | image AUROC | pixel AUROC | PRO | vs fp32 (image / pixel / PRO) |")
print("|---|---|---|---|---|---|")
for c in cats:
    ref = json.load(open(os.path.join(out, c, "eval-fp32.json")))
    for p in ("fp32", "bf16", "winograd"):
        f = os.path.join(out, c, "eval-%s.json" % p)
        if not os.path.exists(f):
            continue
        r = json.load(open(f))
        d = " / ".join("%+.4f" % (r[k] - ref[k]) for k in ("image_auroc", "pixel_auroc", "pro"))
        print("| %s | %s | %.4f | %.4f | %.4f | %s |" % (c, p, r["image_auroc"], r["pixel_auroc"], r["pro"],
                                                         "" if p == "fp32" else d))
PY
