#!/bin/sh
# Every benchmark, libfastflow next to the PyTorch reference in the same run (docs/performance.md).
#   bench/run_all.sh [BUILD_DIR]
# Run it alone: anything else on the machine skews both sides. Needs ../shared/weights and Debian's
# python3-torch. Each benchmark warms up first and reports min and median.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "== backbone (resnet18, 256x256)"
sh "$HERE/run_backbone.sh" "$BUILD" 20
echo "== flow (resnet18 feature shapes, 8 steps, 3x3-only): inference and training step"
sh "$HERE/run_flow.sh" "$BUILD" 20 5
echo "== transformer backbones (random weights)"
sh "$HERE/run_vit.sh" "$BUILD" 3
