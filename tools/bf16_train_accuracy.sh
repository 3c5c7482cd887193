#!/bin/sh
# bf16 training against fp32 training (issue 10): for each category and seed, trains one model with
# `fastflow train --precision fp32` and one with `--precision bf16` (resnet18, 3x3-only, 8 steps, batch 32,
# EPOCHS epochs; skipped when the model exists), evaluates both in fp32 with `fastflow eval`, and prints per
# (set, seed) the image AUROC, pixel AUROC and PRO of each and their differences, then the mean difference
# per set over the seeds and the training-time ratio. The bar: every difference within 0.005.
#
# usage: tools/bf16_train_accuracy.sh [BUILD_DIR] [OUT_DIR] [CATEGORY...]
#   env: FF_SHARED_DIR (../shared), SEEDS ("0 1 2"), EPOCHS (10), THREADS (2),
#        TRAIN_LIMIT (0 = all training images; N: the first N in name order, through a folder of links)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUT=${2:-/tmp/fastflow-bf16-train}
shift 2 2>/dev/null || shift $#
CATEGORIES=${*:-bottle magnetic_tile mpdd_metal_plate}
SHARED=${FF_SHARED_DIR:-$ROOT/../shared}
SEEDS=${SEEDS:-0 1 2}
EPOCHS=${EPOCHS:-10}
THREADS=${THREADS:-2}
LIMIT=${TRAIN_LIMIT:-0}
FF=$BUILD/tools/fastflow/fastflow
WEIGHTS=$SHARED/weights/resnet18-in1k-to-layer3.safetensors
if ! grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null; then
    echo "this CPU has no native bf16: nothing to compare" >&2
    exit 77
fi
now() { date +%s.%N; }
for seed in $SEEDS; do
    for c in $CATEGORIES; do
        data=$SHARED/datasets/$c
        train_data=$data
        if [ "$LIMIT" != 0 ]; then
            train_data=$OUT/$c-data
            if [ ! -d "$train_data/train/good" ]; then
                mkdir -p "$train_data/train/good"
                ls "$data/train/good" | LC_ALL=C sort | head -n "$LIMIT" | while read -r f; do
                    ln -sf "$data/train/good/$f" "$train_data/train/good/$f"
                done
            fi
        fi
        for p in fp32 bf16; do
            dir=$OUT/$c/seed$seed-$p
            mkdir -p "$dir"
            if [ ! -f "$dir/model.safetensors" ]; then
                echo "== $c seed $seed: fastflow train --precision $p" >&2
                t0=$(now)
                "$FF" train --data "$train_data" --backbone resnet18 --weights "$WEIGHTS" --epochs "$EPOCHS" \
                    --batch 32 --flow-steps 8 --conv3x3-only --seed "$seed" --threads "$THREADS" --precision "$p" \
                    --out "$dir/model.safetensors" > "$dir/train.log"
                echo "$(now) $t0" | awk '{print $1 - $2}' > "$dir/train_seconds"
            fi
            if [ ! -f "$dir/eval.json" ]; then
                "$FF" eval --model "$dir/model.safetensors" --data "$data" --threads "$THREADS" \
                    --json "$dir/eval.json" > "$dir/eval.log"
            fi
        done
    done
done
/usr/bin/python3 - "$OUT" "$CATEGORIES" "$SEEDS" <<'PY'
import json, os, sys
out, cats, seeds = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
keys = ("image_auroc", "pixel_auroc", "pro")
print("| set | seed | fp32 image / pixel / PRO | bf16 image / pixel / PRO | bf16 - fp32 | training time bf16 / fp32 |")
print("|---|---|---|---|---|---|")
summary = []
for c in cats:
    diffs, times = [], []
    for s in seeds:
        r = {}
        for p in ("fp32", "bf16"):
            d = os.path.join(out, c, "seed%s-%s" % (s, p))
            r[p] = (json.load(open(os.path.join(d, "eval.json"))), float(open(os.path.join(d, "train_seconds")).read()))
        d = [r["bf16"][0][k] - r["fp32"][0][k] for k in keys]
        diffs.append(d)
        times.append(r["bf16"][1] / r["fp32"][1])
        print("| %s | %s | %s | %s | %s | %.2f |" % (c, s, " / ".join("%.4f" % r["fp32"][0][k] for k in keys),
              " / ".join("%.4f" % r["bf16"][0][k] for k in keys), " / ".join("%+.4f" % x for x in d), times[-1]))
    mean = [sum(x[i] for x in diffs) / len(diffs) for i in range(3)]
    worst = max(abs(x) for dd in diffs for x in dd)
    summary.append((c, mean, worst, sum(times) / len(times)))
print()
print("| set | seeds | mean bf16 - fp32 (image / pixel / PRO) | largest single difference | mean training time bf16 / fp32 |")
print("|---|---|---|---|---|")
for c, mean, worst, t in summary:
    print("| %s | %s | %s | %.4f | %.2f |" % (c, ",".join(seeds), " / ".join("%+.4f" % x for x in mean), worst, t))
PY
