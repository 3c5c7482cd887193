"""Step-by-step comparison of libfastflow's trainer with the PyTorch reference
on a real data set: both start from the same untrained flow (made by the
library, ff_flow_create with --seed) and take the same shuffled batches
(tools/reference/ff_rng.py), so any difference in the losses comes from the
two implementations' float rounding. The reference also runs in float64 (the
exact trajectory, to float32's eyes), and both float32 trajectories are
measured against it: every step's loss on the three, the relative
differences to float64, and at the end each side's distance from float64's
parameters relative to the size of the update. libfastflow is as exact as
the reference when its distance to float64 is of the size of the
reference's own; where the curves part is where training amplifies rounding (the
diagnostic behind docs/results.md's per-seed comparison). Usage (the
library built in BUILD):

    FASTFLOW_LIBRARY=BUILD/lib/libfastflow.so PYTHONPATH=python /usr/bin/python3 \\
        tools/reference/compare_steps.py --data ../shared/datasets/magnetic_tile \\
        --weights ../shared/weights/resnet18-in1k-to-layer3.safetensors [--seed 0] [--steps 24] [--threads 2] \\
        [--no-float64]
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ff_rng  # noqa: E402
import st_io  # noqa: E402
import train_ref  # noqa: E402

import fastflow  # noqa: E402  (the binding, PYTHONPATH=python)


def params_of(model):
    return {name: p.detach().double().numpy().ravel() for name, p in model.state_dict().items()
            if not name.endswith(("w_perm", "w_perm_inv"))}


def update_error(params, truth, init):
    """||params - truth|| / ||truth - init|| over all parameters: the
    relative error of the whole training update (a few elements of Adam's
    sign-like first steps can flip on either side; a norm over everything
    weighs them by their size instead of letting one decide)."""
    diff = norm = 0.0
    for name, t in truth.items():
        diff += float(np.sum((params[name].astype(np.float64) - t) ** 2))
        norm += float(np.sum((t - init[name].astype(np.float64).ravel()) ** 2))
    return float(np.sqrt(diff / max(norm, 1e-300)))


def train_reference(init, feats, shapes, seed, steps, batch, dtype):
    """The reference's losses over `steps` steps and its final parameters."""
    model = train_ref.init_from_model_file(init, shapes, 256).to(dtype)
    feats = [f.to(dtype) for f in feats]
    opt = model.adam()
    rng = ff_rng.Rng(seed)
    n = feats[0].shape[0]
    losses, order, pos = [], None, n
    for _ in range(steps):
        if pos >= n:
            order, pos = rng.shuffle(list(range(n))), 0
        idx = torch.tensor(order[pos:pos + batch])
        pos += batch
        _, _, loss = model([f[idx] for f in feats])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, params_of(model)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-float64", action="store_true", help="compare the two float32 sides only")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    fastflow.set_num_threads(a.threads)
    train_dir = os.path.join(a.data, "train", "good")
    paths = train_ref.list_images(train_dir)

    tmp = tempfile.mkdtemp(prefix="ff-compare-")
    try:
        compare(a, paths, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare(a, paths, tmp):
    init = os.path.join(tmp, "init.safetensors")
    ours_path = os.path.join(tmp, "ours.safetensors")
    with fastflow.Backbone.load("resnet18", a.weights) as bb:
        with fastflow.Flow.create(bb, steps=8, conv3x3_only=True, hidden_ratio=1.0, seed=a.seed) as flow:
            flow.save(init)
            with fastflow.Trainer(flow, batch_size=a.batch, seed=a.seed) as tr:
                for p in paths:  # the order of list_images, which the reference uses too
                    tr.add(p)
                ours = [tr.run_batch() for _ in range(a.steps)]
                with tr.snapshot() as snap:
                    snap.save(ours_path)

    backbone = train_ref.load_backbone(a.weights)
    feats = train_ref.features(backbone, paths, 256)
    del backbone
    shapes = [tuple(f.shape[1:]) for f in feats]
    ref, ref_params = train_reference(init, feats, shapes, a.seed, a.steps, a.batch, torch.float32)
    tensors, _ = st_io.load(ours_path)
    ours_params = {name: tensors[name].ravel() for name in ref_params}
    init_tensors, _ = st_io.load(init)
    init_params = {name: init_tensors[name].ravel() for name in ref_params}
    exact, exact_params = None, None
    if not a.no_float64:
        exact, exact_params = train_reference(init, feats, shapes, a.seed, a.steps, a.batch, torch.float64)

    def rel(x, y):
        return abs(x - y) / max(abs(y), 1e-30)

    if exact is None:
        print(f"{'step':>4} {'libfastflow':>14} {'reference':>14} {'rel diff':>10}")
        for i, (o, r) in enumerate(zip(ours, ref)):
            print(f"{i + 1:4d} {o:14.6g} {r:14.6g} {rel(o, r):10.2e}")
        print(f"parameters after {a.steps} steps: ||ours - ref|| / ||ref - init|| = "
              f"{update_error(ours_params, ref_params, init_params):.3e}")
        return
    print(f"{'step':>4} {'float64 ref':>14} {'libfastflow':>14} {'reference':>14} "
          f"{'ours vs f64':>12} {'ref vs f64':>12}")
    for i, (o, r, e) in enumerate(zip(ours, ref, exact)):
        print(f"{i + 1:4d} {e:14.6g} {o:14.6g} {r:14.6g} {rel(o, e):12.2e} {rel(r, e):12.2e}")
    for side, params in (("libfastflow", ours_params), ("reference (float32)", ref_params)):
        print(f"parameters after {a.steps} steps, {side}: ||p - p64|| / ||p64 - init|| = "
              f"{update_error(params, exact_params, init_params):.3e}")


if __name__ == "__main__":
    main()
