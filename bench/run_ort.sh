#!/bin/sh
# Peer benchmark: ONNX Runtime (onnxruntime-node, CPU) against libfastflow fp32 / bf16 / fp32-winograd on the same
# graph and the same 8 inputs, in alternating rounds (ROUNDS, each RUNS timed runs per runtime after a warm-up, at
# batch 1 and 8, THREADS threads), then the maps' errors against PyTorch fp32.
#   bench/run_ort.sh BUILD_DIR MODEL.safetensors IMAGE_DIR [OUT_DIR]
#   env: FF_SHARED_DIR (../shared), ROUNDS (3), RUNS (20), THREADS (2),
#        ORT_DIR (/tmp/fastflow-ort: onnxruntime-node is installed there, for this benchmark only)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$1
model=$2
images=$3
out=${4:-/tmp/fastflow-ort-bench}
shared=${FF_SHARED_DIR:-$here/../../shared}
rounds=${ROUNDS:-3}
runs=${RUNS:-20}
threads=${THREADS:-2}
export ORT_DIR=${ORT_DIR:-/tmp/fastflow-ort}
mkdir -p "$out"
if [ ! -d "$ORT_DIR/node_modules/onnxruntime-node" ]; then
    # the CPU runtime is in the package; its install script would fetch CUDA libraries from nuget.org
    ONNXRUNTIME_NODE_INSTALL_CUDA=skip ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund \
        --prefix "$ORT_DIR" onnxruntime-node@1.30.0
fi
PYTHONPATH=$here/../python FASTFLOW_LIBRARY=$build/lib/libfastflow.so /usr/bin/python3 "$here/ort_export.py" \
    --model "$model" --weights "$shared/weights/resnet18-in1k-to-layer3.safetensors" --images "$images" --out "$out"
: > "$out/rounds.txt"
r=1
while [ "$r" -le "$rounds" ]; do
    echo "== round $r"
    node "$here/ort_bench.mjs" "$out" "$runs" "$threads" | tee -a "$out/rounds.txt"
    "$build/bench/bench_precision" --model "$model" --input "$out/inputs.f32" --maps-out "$out/maps_" \
        --runs "$runs" --threads "$threads" | grep "^scoring" | tee -a "$out/rounds.txt"
    r=$((r + 1))
done
/usr/bin/python3 - "$out" <<'PY'
import os, re, sys
import numpy as np
out = sys.argv[1]
best = {}
for line in open(os.path.join(out, "rounds.txt")):
    m = re.match(r"scoring batch (\d+) (\S+): min ([0-9.]+) ms/image, median ([0-9.]+)", line)
    if m:
        k = (int(m.group(1)), m.group(2))
        lo, med = best.get(k, (1e30, []))
        best[k] = (min(lo, float(m.group(3))), med + [float(m.group(4))])
ref = np.fromfile(os.path.join(out, "maps_torch.f32"), np.float32)
print("| runtime | batch 1 min / median of round medians (ms/image) | batch 8 | vs onnxruntime (batch 1 / 8, medians) | map error vs PyTorch fp32 |")
print("|---|---|---|---|---|")
for name, f in (("onnxruntime", "maps_ort.f32"), ("fp32", "maps_fp32.f32"), ("bf16", "maps_bf16.f32"),
                ("fp32-winograd", "maps_fp32-winograd.f32")):
    if (1, name) not in best:
        continue
    cells = []
    for b in (1, 8):
        lo, meds = best[(b, name)]
        cells.append("%.2f / %.2f" % (lo, float(np.median(meds))))
    ratio = " / ".join("%.2fx" % (float(np.median(best[(b, name)][1])) / float(np.median(best[(b, "onnxruntime")][1])))
                       for b in (1, 8))
    path = os.path.join(out, f)
    err = float(np.abs(np.fromfile(path, np.float32) - ref).max()) if os.path.exists(path) else float("nan")
    print("| %s | %s | %s | %s | %.2g |" % (name, cells[0], cells[1], ratio, err))
PY
