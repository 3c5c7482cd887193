"""PyTorch reference for bench_flow: tools/reference/fastflow_ref.py's
FastFlow flow on resnet18's feature shapes at 256x256 (8 steps, 3x3 only),
torch.set_num_threads(T).
  inference: LayerNorm + flow + anomaly map under no_grad, ms/image at
             batch 1 and 8
  training:  forward + loss.backward() at batch 32, ms/image
min and median over N timed runs after a warm-up.

    /usr/bin/python3 bench/flow_ref.py [--runs N] [--train-runs M] [--threads T] [--only infer|train]
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
import fastflow_ref as ref  # noqa: E402

SHAPES = [(64, 64, 64), (128, 32, 32), (256, 16, 16)]


def stats(ts):
    ts = sorted(ts)
    return ts[0], ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--train-runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=["infer", "train"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ref.FastFlowRef(SHAPES, (256, 256), flow_steps=8, conv3x3_only=True, hidden_ratio=1.0)
    feats = [torch.relu(torch.rand(32, *s) * 3 - 1) for s in SHAPES]
    if args.only in (None, "infer"):
        model.eval()
        for n in (1, 8):
            x = [f[:n].contiguous() for f in feats]
            ts = []
            with torch.no_grad():
                for i in range(args.runs + 2):
                    t0 = time.perf_counter()
                    zs, _, _ = model(x)
                    model.anomaly_map(zs)
                    if i >= 2:
                        ts.append((time.perf_counter() - t0) * 1e3 / n)
            mn, md = stats(ts)
            print(f"PyTorch flow inference batch {n}: min {mn:.2f} ms/image, median {md:.2f} ms/image "
                  f"({args.runs} runs)")
    if args.only in (None, "train"):
        model.train()
        n = 32
        ts = []
        for i in range(args.train_runs + 1):
            t0 = time.perf_counter()
            model.zero_grad(set_to_none=True)
            _, _, loss = model(feats)
            loss.backward()
            if i >= 1:
                ts.append((time.perf_counter() - t0) * 1e3 / n)
        mn, md = stats(ts)
        print(f"PyTorch flow training step batch {n}: min {mn:.2f} ms/image, median {md:.2f} ms/image "
              f"({args.train_runs} runs)")


if __name__ == "__main__":
    main()
