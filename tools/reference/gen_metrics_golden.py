"""Golden files for the evaluation metrics (tests/test_metrics.c) and the
mask resize of the data set reader (tests/test_dataset.c). Regenerate with:

    /usr/bin/python3 tools/reference/gen_metrics_golden.py

(from the repository root; needs numpy, sklearn, scipy and torch from
Debian's python3-* packages). Inputs are fixed and seeded. Writes:

tests/golden/metrics_binary.safetensors, per case C (listed, comma
separated, in metadata "cases"):
  C.scores     F32 [n]  scores (higher = more anomalous)
  C.labels     U8  [n]  0 normal, 1 anomalous
  C.auroc      F64 [1]  sklearn.metrics.roc_auc_score (NaN: undefined, one class)
  C.f1         F64 [1]  max F1 over sklearn.metrics.precision_recall_curve
  C.threshold  F32 [1]  the threshold at that maximum (first argmax, as
                        anomalib's F1AdaptiveThreshold)

tests/golden/metrics_pro.safetensors, per case C (metadata "cases"):
  C.maps       F32 [N, H, W]
  C.masks      U8  [N, H, W]
  C.max_fpr    F64 [k]  integration limits
  C.aupro      F64 [k]  AUPRO for each limit, computed by compute_pro()
                        below, a transcription of the official MVTec AD
                        evaluation code (pro_curve_util.compute_pro and
                        generic_util.trapezoid with x_max), which labels the
                        ground truth with scipy.ndimage.label and a 3x3
                        structure of ones (8-connectivity)
  C.aupro64    F64 [k]  the same with the FPR kept in float64 (the official
                        code rounds it to float32); the C code computes in
                        double, so this is what it should match most closely
  C.regions    I64 [1]  number of 8-connected ground-truth regions
  C.regions4   I64 [1]  number with 4-connectivity (differs on purpose in
                        case "diagonal", to show which one is used)

tests/golden/metrics_mask_nearest.safetensors, per case C (metadata "cases"):
  C.size       I64 [4]  in_h, in_w, out_h, out_w
  C.rows       I64 [out_h]  source row of each output row
  C.cols       I64 [out_w]  source column of each output column
  from torch.nn.functional.interpolate(mode="nearest") on a float tensor.
"""
import os
import sys

import numpy as np
from scipy.ndimage import label
from sklearn.metrics import precision_recall_curve, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from mvtec_pro import aupro  # noqa: E402

OUT = os.path.join("tests", "golden")


# --------------------------------------------------------------------------
# Image/pixel AUROC and F1


def f1_optimal(scores, labels):
    """anomalib's F1AdaptiveThreshold on sklearn's precision-recall curve."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / (precision + recall + 1e-300)
    best = int(np.argmax(f1))
    # The C code computes F1 as 2TP/(TP+FP+P), one exact division; check the
    # argmax is not a rounding accident of the formula above.
    order = np.argsort(-scores, kind="mergesort")
    s = scores[order]
    tp = np.cumsum(labels[order]).astype(np.int64)
    fp = np.cumsum(1 - labels[order]).astype(np.int64)
    last = np.r_[np.diff(s) != 0, True]
    exact = 2.0 * tp[last] / (tp[last] + fp[last] + labels.sum())
    ex_thr = s[last]
    ex_best = len(exact) - 1 - int(np.argmax(exact[::-1]))  # lowest threshold on ties
    assert ex_thr[ex_best] == thresholds[best], (ex_thr[ex_best], thresholds[best])
    assert abs(exact[ex_best] - f1[best]) < 1e-12
    return float(f1[best]), np.float32(thresholds[best])


def binary_cases():
    rng = np.random.default_rng(20261128)
    cases = {}

    cases["tiny"] = (np.array([0.1, 0.4, 0.35, 0.8, 0.8, 0.2], np.float32),
                     np.array([0, 0, 1, 1, 0, 1], np.uint8))

    # Heavy ties: scores quantised to 12 levels, labels correlated with them.
    n = 5000
    lab = (rng.random(n) < 0.3).astype(np.uint8)
    raw = rng.normal(0, 1, n) + 1.2 * lab
    cases["ties"] = (np.round(raw * 2.0).astype(np.float32) / 2.0, lab)

    cases["all_equal"] = (np.full(100, 0.5, np.float32),
                          (np.arange(100) % 3 == 0).astype(np.uint8))

    # Continuous, medium size, anomaly-map-like values in [-1, 0].
    n = 50000
    lab = (rng.random(n) < 0.05).astype(np.uint8)
    raw = -np.exp(-np.abs(rng.normal(0, 1, n) + 1.5 * lab))
    cases["medium"] = (raw.astype(np.float32), lab)

    # Zeros of both signs (one threshold), negatives, a few exact ties.
    sc = np.array([-0.0, 0.0, -1.5, 2.0, 0.0, -0.0, -1.5, 3.25, 1e-30, -1e-30], np.float32)
    cases["signed_zero"] = (sc, np.array([1, 0, 0, 1, 0, 1, 1, 1, 0, 0], np.uint8))

    sc = np.linspace(0, 1, 40, dtype=np.float32)
    cases["separated"] = (sc, (sc > 0.6).astype(np.uint8))
    cases["reversed"] = (sc, (sc < 0.3).astype(np.uint8))

    # An image-level set the size of MVTec bottle's test split.
    lab = np.r_[np.zeros(20), np.ones(63)].astype(np.uint8)
    raw = rng.normal(0, 1, 83) + 2.5 * lab
    cases["images"] = (raw.astype(np.float32), lab)

    # Only anomalous samples: F1 is defined, AUROC is not.
    cases["only_positive"] = (rng.random(30).astype(np.float32), np.ones(30, np.uint8))

    tensors = {}
    for name, (scores, labels) in cases.items():
        assert scores.dtype == np.float32 and labels.dtype == np.uint8
        if 0 < labels.sum() < len(labels):
            auroc = roc_auc_score(labels, scores)
        else:
            auroc = float("nan")
        f1, thr = f1_optimal(scores.astype(np.float64), labels)
        tensors[name + ".scores"] = scores
        tensors[name + ".labels"] = labels
        tensors[name + ".auroc"] = np.array([auroc], np.float64)
        tensors[name + ".f1"] = np.array([f1], np.float64)
        tensors[name + ".threshold"] = np.array([thr], np.float32)
        print(f"binary {name:14s} n={len(scores):6d} auroc={auroc:.12f} f1={f1:.12f} thr={thr}")
    st_io.save(os.path.join(OUT, "metrics_binary.safetensors"), tensors,
               {"cases": ",".join(cases)})


# --------------------------------------------------------------------------
# PRO: transcribed from the official MVTec AD evaluation code


def blob(mask, cy, cx, r):
    h, w = mask.shape
    yy, xx = np.mgrid[0:h, 0:w]
    mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1


def pro_cases():
    rng = np.random.default_rng(4)
    cases = {}

    # Several images, several regions of different sizes, one normal image.
    n, h, w = 4, 32, 40
    masks = np.zeros((n, h, w), np.uint8)
    masks[0, 3:9, 5:15] = 1
    masks[0, 20:30, 25:38] = 1
    masks[0, 15, 2] = 1  # a one-pixel region
    blob(masks[1], 16, 20, 6)
    masks[2, 0:4, 0:40] = 1  # a stripe along the border
    blob(masks[2], 24, 8, 3)
    blob(masks[2], 24, 30, 2)
    maps = rng.normal(0, 1, (n, h, w)) + 1.8 * masks * rng.random((n, 1, 1))
    maps += masks * rng.normal(0.8, 0.5, (n, h, w))
    cases["regions"] = (maps.astype(np.float32), masks)

    # The same with heavy ties: maps quantised to 0.25 steps.
    cases["ties"] = ((np.round(maps * 4) / 4).astype(np.float32), masks.copy())

    # Regions that touch only diagonally: one region with 8-connectivity,
    # several with 4-connectivity; the weights differ, so AUPRO does too.
    h, w = 24, 24
    masks = np.zeros((2, h, w), np.uint8)
    for i in range(6):
        masks[0, 4 + i, 4 + i] = 1  # a diagonal line: 1 region (8-conn), 6 (4-conn)
    masks[0, 12:20, 12:20] = 1
    masks[1, 2:4, 2:4] = 1
    masks[1, 4:6, 4:6] = 1  # corner contact with the block above
    maps = rng.normal(0, 1, (2, h, w)).astype(np.float32)
    maps[0, 12:20, 12:20] += 2.5
    maps[0][masks[0] == 1] += rng.normal(0.5, 1.0, int(masks[0].sum()))
    maps[1][masks[1] == 1] += 1.0
    cases["diagonal"] = (maps.astype(np.float32), masks)

    # Every score equal: the curve is the diagonal, AUPRO(0.3) = 0.15.
    masks = np.zeros((1, 8, 8), np.uint8)
    masks[0, 2:5, 2:5] = 1
    cases["constant"] = (np.full((1, 8, 8), -0.25, np.float32), masks)

    # A larger pair of maps, 2 x 64x64, smooth scores (few exact ties).
    n, h, w = 2, 64, 64
    masks = np.zeros((n, h, w), np.uint8)
    blob(masks[0], 20, 20, 9)
    blob(masks[0], 45, 50, 4)
    masks[1, 40:44, 5:60] = 1
    yy, xx = np.mgrid[0:h, 0:w]
    maps = np.stack([np.sin(xx / 7.0 + k) * np.cos(yy / 5.0) for k in range(n)])
    maps = maps * 0.3 + masks * 0.6 + rng.normal(0, 0.2, (n, h, w))
    cases["smooth"] = (maps.astype(np.float32), masks)

    limits = np.array([0.3, 0.05, 1.0], np.float64)
    tensors = {}
    for name, (maps, masks) in cases.items():
        vals = np.array([aupro(maps, masks, m) for m in limits])
        vals64 = np.array([aupro(maps, masks, m, np.float64) for m in limits])
        regions = sum(label(m, np.ones((3, 3), int))[1] for m in masks)
        regions4 = sum(label(m)[1] for m in masks)
        tensors[name + ".maps"] = maps
        tensors[name + ".masks"] = masks
        tensors[name + ".max_fpr"] = limits
        tensors[name + ".aupro"] = vals
        tensors[name + ".aupro64"] = vals64
        tensors[name + ".regions"] = np.array([regions], np.int64)
        tensors[name + ".regions4"] = np.array([regions4], np.int64)
        print(f"pro {name:10s} {maps.shape} regions={regions} (4-conn {regions4}) "
              f"aupro={vals} float32-vs-float64 FPR max diff {np.abs(vals - vals64).max():.2e}")
    st_io.save(os.path.join(OUT, "metrics_pro.safetensors"), tensors, {"cases": ",".join(cases)})


# --------------------------------------------------------------------------
# Nearest-neighbour mask resize (torch F.interpolate mode="nearest")


def nearest_cases():
    import torch
    import torch.nn.functional as F

    sizes = {"bottle": (900, 900, 256, 256), "tile": (1024, 1024, 256, 256),
             "oblong": (700, 1000, 256, 256), "thin": (100, 37, 256, 256),
             "down": (256, 256, 224, 224), "odd": (333, 517, 224, 320),
             "double": (128, 128, 256, 256), "same": (64, 48, 64, 48),
             "pixel": (1, 1, 5, 5), "float_edge": (997, 1013, 384, 448)}
    tensors = {}
    for name, (ih, iw, oh, ow) in sizes.items():
        rows = torch.arange(ih, dtype=torch.float64).view(1, 1, ih, 1).expand(1, 1, ih, iw)
        cols = torch.arange(iw, dtype=torch.float64).view(1, 1, 1, iw).expand(1, 1, ih, iw)
        r = F.interpolate(rows.float(), size=(oh, ow), mode="nearest")[0, 0, :, 0]
        c = F.interpolate(cols.float(), size=(oh, ow), mode="nearest")[0, 0, 0, :]
        tensors[name + ".size"] = np.array([ih, iw, oh, ow], np.int64)
        tensors[name + ".rows"] = r.numpy().astype(np.int64)
        tensors[name + ".cols"] = c.numpy().astype(np.int64)
    st_io.save(os.path.join(OUT, "metrics_mask_nearest.safetensors"), tensors,
               {"cases": ",".join(sizes)})
    print(f"nearest: {len(sizes)} cases")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    binary_cases()
    pro_cases()
    nearest_cases()
