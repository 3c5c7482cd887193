"""PyTorch reference training of FastFlow, for the acceptance comparison
with `fastflow train` (tools/train_eval_category.sh). Usage:

    /usr/bin/python3 tools/reference/train_ref.py --data DIR --weights W.safetensors \
        [--epochs 10] [--batch 32] [--threads 2] [--size 256] [--seed 0] [--eval] [--json OUT]

The same model and procedure as libfastflow's trainer: torchvision's
resnet18 (frozen, eval mode) up to layer3 with the given weights,
pre-processing as anomalib (to_tensor, Resize(antialias=True) on the float
tensor, ImageNet normalisation), the backbone features of DIR/train/good
computed once and cached, then the flow of fastflow_ref.py (anomalib's
FastflowModel flow part: LayerNorm + 8 coupling steps, 3x3-only, hidden
ratio 1.0) trained with torch.optim.Adam (lr 1e-3, betas 0.9/0.999, eps
1e-8, weight decay 1e-5 as L2) on shuffled batches of --batch. It prints
the time of every epoch (flow forward + backward + Adam on the cached
features, as the C trainer's epoch) and, with --eval, the image and pixel
AUROC on DIR/test (eval_maps.py's protocol)."""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as TF
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_maps  # noqa: E402
import fastflow_ref as ref  # noqa: E402
import ff_rng  # noqa: E402
import st_io  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def load_backbone(path):
    tensors, _ = st_io.load(path)
    model = torchvision.models.resnet18()
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}
    res = model.load_state_dict(sd, strict=False)
    missing = [k for k in res.missing_keys if not k.startswith(("layer4.", "fc."))]
    if missing:
        sys.exit(f"{path}: missing {missing[:5]}")
    return model.eval()


def preprocess(path, size):
    x = TF.to_tensor(Image.open(path).convert("RGB"))
    x = TF.resize(x, [size, size], antialias=True)
    return TF.normalize(x, MEAN, STD)


@torch.no_grad()
def features(model, paths, size, batch=8):
    out = [[], [], []]
    for i in range(0, len(paths), batch):
        x = torch.stack([preprocess(p, size) for p in paths[i:i + batch]])
        m = model
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        f0 = m.layer1(x)
        f1 = m.layer2(f0)
        f2 = m.layer3(f1)
        for l, f in enumerate((f0, f1, f2)):
            out[l].append(f)
    return [torch.cat(o) for o in out]


def list_images(d):
    return [os.path.join(d, f) for f in sorted(os.listdir(d))
            if f.lower().endswith(eval_maps.IMAGE_EXT) and not f.startswith(".")]


# The reference model from a libfastflow model file (kept under this name for the scripts that import it).
init_from_model_file = ref.from_model_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", action="store_true")
    ap.add_argument("--order", choices=["torch", "libfastflow"], default="torch",
                    help="shuffle with torch.randperm, or in the order `fastflow train --seed SEED` visits images")
    ap.add_argument("--init", help="start from the parameters (and permutations) of this libfastflow model "
                    "file, e.g. the untrained flow `fastflow train` starts from, instead of torch's own init")
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)

    backbone = load_backbone(a.weights)
    train = list_images(os.path.join(a.data, "train", "good"))
    t0 = time.time()
    feats = features(backbone, train, a.size)
    print(f"reference: cached features of {len(train)} images in {time.time() - t0:.1f} s", flush=True)

    shapes = [tuple(f.shape[1:]) for f in feats]
    if a.init:
        model = init_from_model_file(a.init, shapes, a.size)
    else:
        model = ref.FastFlowRef(shapes, (a.size, a.size), flow_steps=8, conv3x3_only=True, hidden_ratio=1.0)
    opt = model.adam()
    gen = torch.Generator().manual_seed(a.seed)
    ff_rng_state = ff_rng.Rng(a.seed)
    n = len(train)
    epoch_times = []
    for epoch in range(1, a.epochs + 1):
        t0 = time.time()
        if a.order == "libfastflow":
            order = torch.tensor(ff_rng_state.shuffle(list(range(n))))
        else:
            order = torch.randperm(n, generator=gen)
        losses = []
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            _, _, loss = model([f[idx] for f in feats])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        dt = time.time() - t0
        epoch_times.append(dt)
        print(f"reference: epoch {epoch}/{a.epochs} loss {np.mean(losses):.6g} time {dt:.2f} s", flush=True)
    per_epoch = float(np.mean(epoch_times)) if epoch_times else 0.0
    print(f"reference: {per_epoch:.2f} s per epoch ({a.threads} threads, torch {torch.__version__})", flush=True)
    result = {"seconds_per_epoch": per_epoch, "epochs": a.epochs, "threads": a.threads}

    if a.eval:
        items = eval_maps.test_images(a.data)
        maps = []
        with torch.no_grad():
            for i in range(0, len(items), 8):
                f = features(backbone, [it[2] for it in items[i:i + 8]], a.size)
                zs, _, _ = model(f)
                maps.extend(m.numpy() for m in model.anomaly_map(zs))
        r = eval_maps.metrics(a.data, items, maps)
        print(f"reference: image AUROC {r['image_auroc']:.4f}  pixel AUROC {r['pixel_auroc']:.4f}  "
              f"PRO {r['pro']:.4f}", flush=True)
        result.update(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
