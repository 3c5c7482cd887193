"""How exact libfastflow's training gradients are on real data, next to
PyTorch's: the gradient of the loss for one batch of real features (the
first shuffled batch of DATA/train/good, as `fastflow train --seed SEED`
takes it) at a model file's parameters, from libfastflow's flow engine
(tools/diag/flow_grads), from the PyTorch reference in float32 and from the
same reference in float64, which serves as the exact value. For every
parameter tensor: max |g - g64| / max |g64| for both float32 sides; then
the median over tensors, the relative L2 error over all parameters, and the
tensors where one side is far off, with the share of the error in the
tensor's worst output channel (a whole channel off is a ReLU whose
pre-activation rounds to the other side of 0: one element of the hidden
layer changes its mask and the channel's gradient moves, on either side,
by luck of rounding). The golden tests check the same engine on small
shapes (tests/test_flow_engine.c); this is the check at full size.
Usage (the library built in BUILD, e.g. build):

    /usr/bin/python3 tools/reference/grad_accuracy.py --build BUILD --data ../shared/datasets/magnetic_tile \\
        --weights ../shared/weights/resnet18-in1k-to-layer3.safetensors --model MODEL.safetensors \\
        [--seed 0] [--batch 32] [--threads 2]

MODEL: a libfastflow model file over resnet18 at 256x256 (an untrained one: `fastflow train --epochs 0`
is not needed; tools/train_eval_category.sh leaves OUT/init.safetensors and OUT/model.safetensors).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ff_rng  # noqa: E402
import st_io  # noqa: E402
import train_ref  # noqa: E402


def reference_grads(model_path, feats, dtype):
    shapes = [tuple(f.shape[1:]) for f in feats]
    model = train_ref.init_from_model_file(model_path, shapes, 256).to(dtype)
    _, _, loss = model([f.to(dtype) for f in feats])
    loss.backward()
    grads = {n: p.grad.detach().double().numpy() for n, p in model.named_parameters() if p.grad is not None}
    return loss.item(), grads


def worst_channel_share(err):
    """Share of the largest error that sits in the worst output channel
    (first axis) against the next worst channel: near 1 = one channel."""
    if err.ndim < 2 or err.shape[0] < 2:
        return None
    per = np.sort(err.reshape(err.shape[0], -1).max(axis=1))[::-1]
    return float(per[0] / (per[0] + per[1])) if per[0] > 0 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    paths = train_ref.list_images(os.path.join(a.data, "train", "good"))
    order = ff_rng.Rng(a.seed).shuffle(list(range(len(paths))))
    batch = [paths[i] for i in order[:a.batch]]
    feats = train_ref.features(train_ref.load_backbone(a.weights), batch, 256)

    tmp = tempfile.mkdtemp(prefix="ff-grads-")
    try:
        feats_path = os.path.join(tmp, "features.safetensors")
        grads_path = os.path.join(tmp, "grads.safetensors")
        st_io.save(feats_path, {f"level{l}": f.numpy() for l, f in enumerate(feats)})
        tool = os.path.join(a.build, "tools", "diag", "flow_grads")
        run = subprocess.run([tool, a.weights, a.model, feats_path, grads_path, str(a.threads)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"{tool} failed: {run.stderr.strip()}")
        ours_loss = float(run.stdout.split()[1])
        ours, _ = st_io.load(grads_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    loss32, g32 = reference_grads(a.model, feats, torch.float32)
    loss64, g64 = reference_grads(a.model, feats, torch.float64)
    print(f"loss: float64 {loss64:.10g}, libfastflow {ours_loss:.10g} ({abs(ours_loss - loss64) / abs(loss64):.1e}), "
          f"PyTorch float32 {loss32:.10g} ({abs(loss32 - loss64) / abs(loss64):.1e})")

    rows = []
    d_ours = d_ref = norm = 0.0
    for name, exact in g64.items():
        mine = ours[name].reshape(exact.shape).astype(np.float64)
        theirs = g32[name]
        scale = max(np.abs(exact).max(), 1e-30)
        e_ours, e_ref = np.abs(mine - exact), np.abs(theirs - exact)
        rows.append((e_ours.max() / scale, e_ref.max() / scale, name, worst_channel_share(e_ours),
                     worst_channel_share(e_ref)))
        d_ours += float(np.sum((mine - exact) ** 2))
        d_ref += float(np.sum((theirs - exact) ** 2))
        norm += float(np.sum(exact ** 2))
    eo = np.array([r[0] for r in rows])
    er = np.array([r[1] for r in rows])
    print(f"{len(rows)} parameter tensors; max |g - g64| / max |g64| per tensor:")
    print(f"  median over tensors: libfastflow {np.median(eo):.2e}, PyTorch float32 {np.median(er):.2e}")
    print(f"  worst tensor:        libfastflow {eo.max():.2e}, PyTorch float32 {er.max():.2e}")
    print(f"  relative L2 error over all parameters: libfastflow {np.sqrt(d_ours / norm):.2e}, "
          f"PyTorch float32 {np.sqrt(d_ref / norm):.2e}")
    print(f"  tensors where libfastflow is > 3x further from float64 than PyTorch: {int(np.sum(eo > 3 * er))}, "
          f"the other way round: {int(np.sum(er > 3 * eo))}")
    far = sorted(rows, key=lambda r: -max(r[0], r[1]))[:6]
    print("  largest errors (tensor: libfastflow / PyTorch float32, share of the worst output channel):")
    for e_o, e_r, name, s_o, s_r in far:
        share = "/".join("-" if s is None else f"{s:.2f}" for s in (s_o, s_r))
        print(f"    {name}: {e_o:.2e} / {e_r:.2e}  ({share})")


if __name__ == "__main__":
    main()
