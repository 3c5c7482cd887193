"""PyTorch reference for bench_backbone: torchvision resnet18 to layer3
(eval, no_grad, torch.set_num_threads(T)), 256x256, ms/image at batch 1 and
batch 8 after a warm-up, min and median over N runs.

    /usr/bin/python3 bench/backbone_ref.py [--weights W] [--runs N] [--threads T]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
import st_io  # noqa: E402


def to_layer3(m, x):
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    f0 = m.layer1(x)
    f1 = m.layer2(f0)
    return f0, f1, m.layer3(f1)


def main():
    shared = os.environ.get("FF_SHARED_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                             "shared")
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(shared, "weights", "resnet18-in1k-to-layer3.safetensors"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = torchvision.models.resnet18()
    tensors, _ = st_io.load(args.weights)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
    model.eval()
    rng = np.random.default_rng(0)
    for batch in (1, 8):
        x = torch.from_numpy(rng.uniform(-2, 2, size=(batch, 3, 256, 256)).astype(np.float32))
        times = []
        with torch.no_grad():
            for _ in range(3):
                to_layer3(model, x)
            for _ in range(args.runs):
                t0 = time.perf_counter()
                to_layer3(model, x)
                times.append((time.perf_counter() - t0) * 1e3 / batch)
        times.sort()
        print(f"PyTorch resnet18 256x256 batch {batch}: min {times[0]:.2f} ms/image, "
              f"median {times[len(times) // 2]:.2f} ms/image ({args.runs} runs)")


if __name__ == "__main__":
    main()
