#!/bin/sh
# Runs every fuzz target for a short time (CI: 60 s each, two at a time on
# the 2-core runner), from the repository root:
#   tests/fuzz/ci.sh [SECONDS] [OUT_DIR]
# Seeds: the committed ones, tests/golden (safetensors), and the ones the
# image and flow_load harnesses generate. A crash, leak, timeout or
# invariant violation fails the run (libFuzzer exits non-zero) and leaves
# the input in OUT_DIR/<target>/.
set -eu
secs=${1:-60}
out=${2:-build-fuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mkdir -p "$out"
out=$(cd "$out" && pwd)
for t in image safetensors flow_load dataset; do tests/fuzz/build.sh "$t" "$out" >/dev/null 2>&1 || {
    echo "fuzz: building $t failed" >&2; tests/fuzz/build.sh "$t" "$out"; exit 1; }; done
for t in image safetensors flow_load dataset; do mkdir -p "$out/$t/corpus"; done
/usr/bin/python3 tests/fuzz/image_seeds.py "$out/image-seeds" >/dev/null
FF_FUZZ_WRITE_SEEDS="$out/flow-seeds" "$out/fuzz_flow_load"
run() { # target, dict, corpus dirs...
    t=$1; d=$2; shift 2
    (cd "$out/$t" && "$out/fuzz_$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$root/tests/fuzz/$d" "$@" > log.txt 2>&1) || { echo "fuzz: $t FAILED"; tail -40 "$out/$t/log.txt"; return 1; }
    echo "fuzz: $t: $(sed -n 's/^stat::number_of_executed_units: */executions /p' "$out/$t/log.txt")"
}
status=0
run image image.dict corpus "$out/image-seeds" "$root/tests/data/exif" & a=$!
run safetensors safetensors.dict corpus "$root/tests/golden" & b=$!
wait $a || status=1
wait $b || status=1
run flow_load flow_load.dict corpus "$out/flow-seeds" & a=$!
run dataset dataset.dict corpus "$root/tests/fuzz/dataset-seeds" & b=$!
wait $a || status=1
wait $b || status=1
exit $status
