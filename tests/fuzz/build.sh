#!/bin/sh
# Builds a libFuzzer harness outside the meson build (CI never runs it):
#
#   tests/fuzz/build.sh <name> [out-dir]          (from the repository root)
#
# compiles tests/fuzz/fuzz_<name>.c together with the library sources using
# clang -fsanitize=fuzzer,address,undefined into <out-dir>/fuzz_<name>
# (default out-dir: build-fuzz). By default every lib/**/*.c is compiled; a
# harness may restrict that with a comment line of the form
#     // fuzz-sources: lib/core lib/tensor
# listing folders (or files) under the repository root, which keeps the
# build small and independent of unrelated layers.
#
# Run, e.g. for one minute with a seed corpus and the optional dictionary:
#   build-fuzz/fuzz_<name> -max_total_time=60 [-dict=tests/fuzz/<name>.dict] CORPUS_DIR [SEED_DIR...]
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 <name> [out-dir]" >&2
    exit 2
fi
name=$1
out=${2:-build-fuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
harness=$root/tests/fuzz/fuzz_$name.c
[ -f "$harness" ] || { echo "no harness $harness" >&2; exit 2; }
CC=${CC:-clang}

dirs=$(sed -n 's|^[[:space:]]*//[[:space:]]*fuzz-sources:[[:space:]]*||p' "$harness" | head -n 1)
[ -n "$dirs" ] || dirs=lib
sources=""
for d in $dirs; do
    if [ -f "$root/$d" ]; then
        sources="$sources $root/$d"
    else
        sources="$sources $(find "$root/$d" -name '*.c' | sort | tr '\n' ' ')"
    fi
done

mkdir -p "$out"
# oneDNN, libpng and libjpeg are linked whatever the sources, so that any
# layer can be included; --as-needed drops the unused ones.
set -x
$CC -std=c11 -D_GNU_SOURCE -DFF_BUILDING -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fopenmp=libgomp \
    -I"$root/include" -I"$root/lib" \
    "$harness" $sources \
    -o "$out/fuzz_$name" \
    -Wl,--as-needed -ldnnl $(pkg-config --libs libpng libjpeg) -lgomp -lm -lpthread
