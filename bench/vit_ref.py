"""PyTorch reference speed for bench/bench_vit.c: the same transformer
trunks (tools/reference/vit_ref.py, timm's blocks) with random weights, in
ms/image at their input size, min and median over N runs after a warm-up.

    /usr/bin/python3 bench/vit_ref.py [--arch NAME] [--batch N] [--runs N] [--threads T] [--no-mkldnn]
"""
import argparse
import os
import sys
import time

import torch
import torch.utils.mkldnn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
from vit_ref import CONFIGS, ViTFeatures, randomize_  # noqa: E402


def bench(name, batch, runs, mkldnn):
    model = ViTFeatures.from_config(name).eval()
    randomize_(model, 1)
    if mkldnn:
        # Debian's torch has no MKL: its Linear goes to the netlib reference
        # BLAS (~3 GFLOP/s here); oneDNN's Linear/Conv2d is the fair rival.
        # The attention products (q @ k^T, attn @ v) still use bmm.
        model = torch.utils.mkldnn.to_mkldnn(model)
    side = CONFIGS[name][6]
    x = torch.rand(batch, 3, side, side) * 4 - 2
    times = []
    with torch.inference_mode():
        model(x)
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3 / batch)
    times.sort()
    print("PyTorch%s %s %dx%d batch %d: min %.1f ms/image, median %.1f ms/image (%d runs)" % (
        " (mkldnn linear)" if mkldnn else "", name, side, side, batch, times[0], times[len(times) // 2], runs))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-mkldnn", action="store_true", help="keep torch's default Linear (BLAS)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    for name in [a.arch] if a.arch else ["deit_base_distilled_patch16_384", "cait_m48_448"]:
        bench(name, a.batch, a.runs, not a.no_mkldnn)


if __name__ == "__main__":
    main()
