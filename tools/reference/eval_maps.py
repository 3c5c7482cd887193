"""Image AUROC, pixel AUROC and PRO of anomaly maps on an MVTec AD category, computed
independently of libfastflow (numpy, PIL and sklearn only, no torch), for
the acceptance run (tools/train_eval_category.sh) and the PyTorch reference
(train_ref.py imports mask_at / metrics). Usage:

    /usr/bin/python3 tools/reference/eval_maps.py --data DIR --maps MAPS [--json OUT]

MAPS/<type>/<stem>.npy are float32 [H, W] maps (`fastflow score --maps`) for
every DIR/test/<type>/<stem>.png; the image score is the map's maximum.
Protocol (shared/spec/fastflow-model.md): image label = defect folder vs
good; pixel AUROC over every pixel of every test image at the map's
resolution, masks resized with nearest neighbour as PyTorch's
F.interpolate(mode="nearest") does (source index floor(dst * in / out)),
mask > 0 anomalous; good images have all-zero masks."""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mvtec_pro import aupro  # noqa: E402

IMAGE_EXT = (".png", ".jpg", ".jpeg")


def test_images(data):
    """[(type, stem, path, label)] sorted by type then file name."""
    root = os.path.join(data, "test")
    out = []
    for t in sorted(os.listdir(root)):
        d = os.path.join(root, t)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.lower().endswith(IMAGE_EXT) and not f.startswith("."):
                out.append((t, os.path.splitext(f)[0], os.path.join(d, f), 0 if t == "good" else 1))
    return out


def mask_at(data, typ, stem, h, w):
    """The ground-truth mask of an image, [h, w] uint8 0/1 (zeros for good)."""
    if typ == "good":
        return np.zeros((h, w), np.uint8)
    path = os.path.join(data, "ground_truth", typ, stem + "_mask.png")
    m = np.asarray(Image.open(path).convert("L"))
    ih, iw = m.shape
    ys = np.minimum(np.floor(np.arange(h) * (ih / h)).astype(int), ih - 1)
    xs = np.minimum(np.floor(np.arange(w) * (iw / w)).astype(int), iw - 1)
    return (m[ys][:, xs] > 0).astype(np.uint8)


def metrics(data, items, maps):
    """items from test_images(); maps[i] the [H, W] map of items[i]."""
    labels = np.array([it[3] for it in items])
    scores = np.array([float(m.max()) for m in maps])
    image_auroc = roc_auc_score(labels, scores)
    h, w = maps[0].shape
    masks = np.stack([mask_at(data, it[0], it[1], h, w) for it in items])
    stacked = np.stack(maps)
    pixel_auroc = roc_auc_score(masks.ravel(), stacked.ravel())
    # PRO integrated up to FPR 0.3, as the official MVTec AD code (masks
    # with no region add nothing; a set without any region has no PRO).
    pro = float(aupro(stacked, masks, 0.3)) if masks.any() else None
    return {"image_auroc": float(image_auroc), "pixel_auroc": float(pixel_auroc), "pro": pro,
            "n_good": int((labels == 0).sum()), "n_defect": int((labels == 1).sum())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--maps", required=True)
    ap.add_argument("--json")
    a = ap.parse_args()
    items = test_images(a.data)
    maps = []
    for typ, stem, _, _ in items:
        p = os.path.join(a.maps, typ, stem + ".npy")
        if not os.path.exists(p):
            sys.exit(f"missing map {p}")
        m = np.load(p)
        if m.dtype != np.float32 or m.ndim != 2:
            sys.exit(f"{p}: expected a float32 [H, W] array, got {m.dtype} {m.shape}")
        maps.append(m)
    r = metrics(a.data, items, maps)
    print(f"image AUROC {r['image_auroc']:.4f}  pixel AUROC {r['pixel_auroc']:.4f}  PRO {r['pro']:.4f}  "
          f"({r['n_good']} good, {r['n_defect']} defect test images)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
