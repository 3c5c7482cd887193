"""Markdown table of libfastflow vs the PyTorch reference from the outputs of
tools/results_mvtec.sh (OUT/<category>/{eval.json,metrics.json,reference.json,train.log}).
Usage: /usr/bin/python3 tools/reference/results_table.py --out OUT --epochs N CATEGORY..."""
import argparse
import json
import os
import re


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(x):
    return "n/a" if x is None else f"{x:.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("categories", nargs="+")
    a = ap.parse_args()
    print(f"| data set | train / test images | libfastflow image AUROC | pixel AUROC | PRO "
          f"| reference image AUROC | pixel AUROC | PRO | s/epoch libfastflow | s/epoch reference |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in a.categories:
        d = os.path.join(a.out, c)
        ours = load(os.path.join(d, "eval.json"))
        check = load(os.path.join(d, "metrics.json"))
        ref = load(os.path.join(d, "reference.json"))
        log = open(os.path.join(d, "train.log")).read()
        m = re.search(r"\(([0-9.]+) s per epoch\)", log)
        n_train = re.search(r"(\d+) (?:training )?images", log)
        # The library's metrics and the independent numpy/sklearn check of the same maps must agree.
        for k in ("image_auroc", "pixel_auroc"):
            if abs(ours[k] - check[k]) > 1e-6:
                raise SystemExit(f"{c}: {k} {ours[k]} (fastflow eval) != {check[k]} (eval_maps.py)")
        print(f"| {c} | {n_train.group(1) if n_train else '?'} / {ours['n_good'] + ours['n_defect']} "
              f"| {fmt(ours['image_auroc'])} | {fmt(ours['pixel_auroc'])} | {fmt(ours.get('pro'))} "
              f"| {fmt(ref.get('image_auroc'))} | {fmt(ref.get('pixel_auroc'))} | {fmt(ref.get('pro'))} "
              f"| {m.group(1) if m else '?'} | {ref['seconds_per_epoch']:.1f} |")
    print(f"\nresnet18 (ImageNet weights), 3x3-only, 8 flow steps, batch 32, {a.epochs} epochs, seed 0, "
          f"256x256, 2 threads.")


if __name__ == "__main__":
    main()
