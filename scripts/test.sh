#!/usr/bin/env bash
# Builds libfastflow and runs its whole test suite (fast and slow tests).
# Usage: scripts/test.sh [build-dir]   (default: build)
# Slow tests use ../shared (real weights and data sets); they are skipped
# with a message when it is absent, and fail when CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bash scripts/ensure-deps.sh
if [ -d "$BUILD" ]; then meson setup --reconfigure "$BUILD" >/dev/null; else meson setup "$BUILD" >/dev/null; fi
meson compile -C "$BUILD"
meson test -C "$BUILD" --setup all --print-errorlogs
