#!/usr/bin/env bash
# Regenerates the ABI baseline of the current version, abi/<MAJOR.MINOR>/
# (libfastflow.abi and types.abi, see scripts/abi-dump.sh), from a build of
# this checkout, then checks the build against every baseline.
# Run it when a release is made (docs/versioning.md), and before 0.1 is
# released whenever the API changes. One command:
#   scripts/update-abi-baseline.sh [BUILD_DIR]     (default: build)
# It configures BUILD_DIR if needed and brings it up to date first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
if [ ! -d "$build" ]; then meson setup "$build" >/dev/null; fi
meson compile -C "$build" lib/fastflow:shared_library lib/fastflow_abi_types:shared_library >/dev/null
version=$(sed -n "s/^  version: '\([0-9]*\)\.\([0-9]*\)\.[0-9]*',$/\1.\2/p" meson.build)
if [ -z "$version" ]; then
    echo "cannot read project(version:) from meson.build" >&2
    exit 1
fi
bash scripts/abi-dump.sh "$build" "abi/$version"
echo "wrote abi/$version/libfastflow.abi and abi/$version/types.abi"
bash scripts/check-abi.sh "$build"
