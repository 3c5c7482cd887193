#!/bin/sh
# Peak resident memory (the kernel's ru_maxrss of the process) of the two
# jobs users run: `fastflow train` on the whole bottle training set (209
# images, resnet18, the default settings: batch 32, cached features; one
# epoch, since nothing grows after the first batch) and `fastflow score` of
# one 256x256 image with that model at each precision. Memory does not
# depend on the machine's load, so this may run beside other work.
#   bench/run_peak_rss.sh [BUILD_DIR] [OUT_DIR]      env: FF_SHARED_DIR, THREADS (2)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
out=${2:-/tmp/fastflow-peak-rss}
threads=${THREADS:-2}
shared=${FF_SHARED_DIR:-$here/../../shared}
ff=$build/tools/fastflow/fastflow
weights=$shared/weights/resnet18-in1k-to-layer3.safetensors
image=$shared/datasets/bottle/test/broken_large/000.png
mkdir -p "$out"

# peak_rss LABEL COMMAND...: runs COMMAND (output to $out/LABEL.log) and prints its peak RSS
peak_rss() {
    label=$1
    shift
    /usr/bin/python3 - "$out/$label.log" "$label" "$@" <<'PY'
import resource, subprocess, sys
log, label, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(log, "w") as f:
    rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT)
if rc != 0:
    sys.exit(f"{label}: exit {rc}, see {log}")
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"| {label} | {kib / 1024:.0f} MiB |")
PY
}

echo "| what | peak RSS |"
echo "|---|---|"
peak_rss "fastflow train, bottle (209 images), resnet18, batch 32, 1 epoch" \
    "$ff" train --data "$shared/datasets/bottle" --backbone resnet18 --weights "$weights" --epochs 1 \
    --threads "$threads" --out "$out/bottle.safetensors"
for p in fp32 bf16 winograd; do
    if [ "$p" = bf16 ] && ! grep -qw avx512_bf16 /proc/cpuinfo; then
        echo "| fastflow score, one 256x256 image, --precision bf16 | (no native bf16 on this CPU) |"
        continue
    fi
    peak_rss "fastflow score, one 256x256 image, --precision $p" \
        "$ff" score --model "$out/bottle.safetensors" --threads "$threads" --precision "$p" "$image"
done
