#!/bin/sh
# Trains and evaluates one MVTec AD layout category, libfastflow next to the PyTorch reference:
#   1. `fastflow train`: resnet18 (shared/weights/resnet18-in1k-to-layer3), 3x3-only, 8 steps, batch 32,
#      EPOCHS epochs on CATEGORY/train/good; prints the time per epoch;
#   2. `fastflow score --maps`: every test image's anomaly map as .npy;
#   3. tools/reference/eval_maps.py: image AUROC, pixel AUROC and PRO (numpy/sklearn/scipy, independent of
#      the library), then `fastflow eval --json` on the same model (ff_metric_*: the same figures);
#   4. tools/reference/train_ref.py: the PyTorch reference trained the same way on the same cached-features
#      scheme, with THREADS threads, for REF_EPOCHS epochs (its AUROC is printed too when REF_EPOCHS equals
#      EPOCHS), starting from the same initial parameters as ours; its time per epoch is printed next to ours.
# Flow-model issue acceptance (bottle, 10 epochs): image AUROC >= 0.99, pixel AUROC >= 0.97.
#
# usage: tools/train_eval_category.sh [BUILD_DIR] [OUT_DIR] [CATEGORY]
#   CATEGORY: a folder name under shared/datasets (default bottle)
#   env: FF_SHARED_DIR (default ../shared), EPOCHS (10), REF_EPOCHS (= EPOCHS), THREADS (2),
#        REF_THREADS (= THREADS), SEED (0: the seed of both the initial flow and the shuffled order)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
CATEGORY=${3:-bottle}
OUT=${2:-/tmp/fastflow-$CATEGORY}
SHARED=${FF_SHARED_DIR:-$ROOT/../shared}
EPOCHS=${EPOCHS:-10}
REF_EPOCHS=${REF_EPOCHS:-$EPOCHS}
THREADS=${THREADS:-2}
REF_THREADS=${REF_THREADS:-$THREADS}
SEED=${SEED:-0}
DATA=$SHARED/datasets/$CATEGORY
WEIGHTS=$SHARED/weights/resnet18-in1k-to-layer3.safetensors
FF=$BUILD/tools/fastflow/fastflow
PY=/usr/bin/python3
mkdir -p "$OUT"

# REUSE=1 keeps libfastflow's outputs of an earlier run in OUT (train.log, model, maps, eval.json) and reruns
# only the reference: the library's training is deterministic for a seed and thread count.
if [ "${REUSE:-0}" = 1 ] && [ -f "$OUT/eval.json" ] && [ -f "$OUT/metrics.json" ] && [ -f "$OUT/train.log" ]; then
    echo "== reusing libfastflow's results in $OUT"
else
echo "== fastflow train ($EPOCHS epochs, $THREADS threads)"
"$FF" train --data "$DATA" --backbone resnet18 --weights "$WEIGHTS" --epochs "$EPOCHS" --batch 32 \
    --flow-steps 8 --conv3x3-only --seed "$SEED" --threads "$THREADS" --out "$OUT/model.safetensors" | tee "$OUT/train.log"

echo "== fastflow score (test set)"
rm -rf "$OUT/maps"
for dir in "$DATA"/test/*/; do
    type=$(basename "$dir")
    mkdir -p "$OUT/maps/$type"
    "$FF" score --model "$OUT/model.safetensors" --threads "$THREADS" --maps "$OUT/maps/$type" "$dir"*.png \
        > "$OUT/scores_$type.txt"
done

echo "== evaluation"
$PY "$ROOT/tools/reference/eval_maps.py" --data "$DATA" --maps "$OUT/maps" --json "$OUT/metrics.json"
echo "== fastflow eval (the library's metrics, for comparison)"
"$FF" eval --model "$OUT/model.safetensors" --data "$DATA" --threads "$THREADS" --json "$OUT/eval.json" \
    | tee "$OUT/eval.log"

fi

echo "== PyTorch reference ($REF_EPOCHS epochs, $REF_THREADS threads, seed $SEED)"
EVAL=""
if [ "$REF_EPOCHS" = "$EPOCHS" ]; then EVAL="--eval"; fi
# Both start from the same parameters, the untrained flow `fastflow train --seed SEED` starts from (made through
# the Python binding, ff_flow_create), and visit the images in the same shuffled order (tools/reference/ff_rng.py
# ports the library's generator), so that only the implementations differ. SAME_INIT=0: torch's own init and
# torch.randperm order instead.
INIT=""
if [ "${SAME_INIT:-1}" = 1 ]; then
    FASTFLOW_LIBRARY=$BUILD/lib/libfastflow.so PYTHONPATH=$ROOT/python $PY -c "
import sys, fastflow
with fastflow.Backbone.load('resnet18', sys.argv[1]) as bb:
    with fastflow.Flow.create(bb, steps=8, conv3x3_only=True, hidden_ratio=1.0, seed=int(sys.argv[3])) as f:
        f.save(sys.argv[2])" "$WEIGHTS" "$OUT/init.safetensors" "$SEED"
    INIT="--init $OUT/init.safetensors --order libfastflow"
fi
# shellcheck disable=SC2086
$PY "$ROOT/tools/reference/train_ref.py" --data "$DATA" --weights "$WEIGHTS" --epochs "$REF_EPOCHS" \
    --batch 32 --threads "$REF_THREADS" --seed "$SEED" $EVAL $INIT --json "$OUT/reference.json" | tee "$OUT/reference.log"

echo "== summary"
ours=$(sed -n 's/.*(\([0-9.]*\) s per epoch).*/\1/p' "$OUT/train.log")
ref=$(sed -n 's/^reference: \([0-9.]*\) s per epoch.*/\1/p' "$OUT/reference.log")
echo "training time per epoch: libfastflow ${ours} s ($THREADS threads), PyTorch reference ${ref} s ($REF_THREADS threads)"
cat "$OUT/metrics.json"
