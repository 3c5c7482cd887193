#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs the dependencies (root or
# sudo), builds libfastflow and the fastflow tool, then runs `fastflow demo`:
# it trains a FastFlow model, evaluates it and writes heatmaps to demo-out/.
# Data: --data DIR (an MVTec AD category) or, by default, a generated
# synthetic inspection set. Weights: $FASTFLOW_WEIGHTS, then
# ../shared/weights/resnet18-in1k-to-layer3.safetensors; else the script
# tries to download timm's resnet18.tv_in1k weights (BSD-3).
# Usage: scripts/demo.sh [fastflow demo options...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
meson compile -C build >/dev/null

if [ -z "${FASTFLOW_WEIGHTS:-}" ] && [ ! -f ../shared/weights/resnet18-in1k-to-layer3.safetensors ]; then
  dest=weights/resnet18.tv_in1k.safetensors
  if [ ! -f "$dest" ]; then
    url=https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors
    mkdir -p weights
    echo "Fetching ImageNet ResNet18 weights (timm resnet18.tv_in1k, BSD-3) to $dest ..."
    if ! { command -v curl >/dev/null && curl -fsSL --connect-timeout 10 -o "$dest.part" "$url"; }; then
      rm -f "$dest.part"
      echo "Could not download $url" >&2
      echo "Download it by hand to $PWD/$dest, or set FASTFLOW_WEIGHTS to a torchvision/timm resnet18" >&2
      echo "state dict in safetensors format." >&2
      exit 1
    fi
    mv "$dest.part" "$dest"
  fi
  export FASTFLOW_WEIGHTS=$PWD/$dest
fi
exec build/tools/fastflow/fastflow demo --out demo-out "$@"
