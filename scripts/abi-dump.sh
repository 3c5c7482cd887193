#!/usr/bin/env bash
# Writes the ABI of a build as libabigail XML (abidw), in the one form that
# the baselines in abi/ and scripts/check-abi.sh both use. Two files:
#   OUTDIR/libfastflow.abi  the exported functions of libfastflow.so, their
#                           signatures and the types they reach;
#   OUTDIR/types.abi        every type include/fastflow.h declares, from
#                           libfastflow_abi_types.so (lib/core/abi_types.c):
#                           the API passes enums as int32_t, so no function
#                           reaches them and the first file cannot see a
#                           renumbered enumerator.
# Nothing in them depends on the machine or the checkout: no paths
# (--no-corpus-path, --no-comp-dir-path), no source locations
# (--no-show-locs: header edits that move lines change nothing), no DT_NEEDED
# list (--no-elf-needed: oneDNN's or libpng's version is not our ABI), and
# type ids derived from the types themselves (--type-id-style hash), so the
# files are the same from any clone at any path and diffs of them are small.
# usage: scripts/abi-dump.sh BUILD_DIR OUTDIR
set -euo pipefail
build=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v abidw >/dev/null; then
    echo "abidw not found (Debian: apt-get install abigail-tools)" >&2
    exit 2
fi
lib=$build/lib/libfastflow.so
types=$build/lib/libfastflow_abi_types.so
for f in "$lib" "$types"; do
    if [ ! -e "$f" ]; then
        echo "$f not found: build first (meson compile -C $build)" >&2
        exit 2
    fi
    sections=$(readelf -S "$f" 2>/dev/null || true)
    if ! grep -q '\.debug_info' <<<"$sections"; then
        echo "$f has no debug information, so abidw cannot see its types" >&2
        echo "(lib/meson.build compiles the library with -g; was it built another way?)" >&2
        exit 2
    fi
done
mkdir -p "$out"
common=(--no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed --type-id-style hash
        --drop-undefined-syms --headers-dir "$root/include" --drop-private-types)
abidw "${common[@]}" --out-file "$out/libfastflow.abi" "$lib"
abidw "${common[@]}" --load-all-types --out-file "$out/types.abi" "$types"
