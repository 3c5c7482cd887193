"""Markdown table of libfastflow vs the PyTorch reference from the outputs of
tools/results_mvtec.sh (OUT/<category>/{eval.json,metrics.json,reference.json,train.log}
for seed 0, OUT/<category>-seed<S>/ for the other seeds of SEEDS).
The first table is seed 0; when a category has runs for several seeds, a
second table gives every seed and the mean of each side, so that the
difference of the means can be read against the spread between seeds.
Usage: /usr/bin/python3 tools/reference/results_table.py --out OUT --epochs N CATEGORY..."""
import argparse
import json
import os
import re
import statistics

KEYS = ("image_auroc", "pixel_auroc", "pro")


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(x):
    return "n/a" if x is None else f"{x:.4f}"


def check(c, ours, independent, what):
    """The library's metrics and the independent numpy/sklearn check of the same maps must agree."""
    for k in ("image_auroc", "pixel_auroc"):
        if abs(ours[k] - independent[k]) > 1e-6:
            raise SystemExit(f"{c}{what}: {k} {ours[k]} (fastflow eval) != {independent[k]} (eval_maps.py)")


def seed_runs(out, c):
    """(seed, directory) of every finished run of category c."""
    runs = []
    for seed in range(100):
        d = os.path.join(out, c if seed == 0 else f"{c}-seed{seed}")
        if all(os.path.exists(os.path.join(d, f)) for f in ("eval.json", "reference.json")):
            runs.append((seed, d))
    return runs


def triple(m):
    return " / ".join(fmt(m.get(k)) for k in KEYS)


def seed_table(out, categories):
    multi = [(c, seed_runs(out, c)) for c in categories]
    multi = [(c, r) for c, r in multi if len(r) > 1]
    if not multi:
        return
    print("\n| data set | seed | libfastflow image / pixel AUROC / PRO | reference image / pixel AUROC / PRO |")
    print("|---|---|---|---|")
    for c, runs in multi:
        ours = [load(os.path.join(d, "eval.json")) for _, d in runs]
        ref = [load(os.path.join(d, "reference.json")) for _, d in runs]
        for (seed, d), o in zip(runs, ours):
            check(c, o, load(os.path.join(d, "metrics.json")), f" seed {seed}")
        for (seed, _), o, r in zip(runs, ours, ref):
            print(f"| {c} | {seed} | {triple(o)} | {triple(r)} |")
        mean = {}
        for side, rows in (("ours", ours), ("ref", ref)):
            mean[side] = {}
            for k in KEYS:
                v = [x[k] for x in rows if x.get(k) is not None]
                mean[side][k] = (statistics.mean(v), statistics.stdev(v)) if len(v) > 1 else None
        cell = {side: " / ".join(f"{m[0]:.4f} ± {m[1]:.4f}" if m else "n/a" for m in (mean[side][k] for k in KEYS))
                for side in mean}
        print(f"| {c} | mean ± sd ({len(runs)} seeds) | {cell['ours']} | {cell['ref']} |")
        diff = " / ".join(f"{mean['ours'][k][0] - mean['ref'][k][0]:+.4f}" if mean['ours'][k] and mean['ref'][k]
                          else "n/a" for k in KEYS)
        print(f"| {c} | libfastflow - reference (means) | {diff} | |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("categories", nargs="+")
    a = ap.parse_args()
    print("| data set | train / test images | libfastflow image AUROC | pixel AUROC | PRO "
          "| reference image AUROC | pixel AUROC | PRO | s/epoch libfastflow | s/epoch reference |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in a.categories:
        d = os.path.join(a.out, c)
        ours = load(os.path.join(d, "eval.json"))
        checked = load(os.path.join(d, "metrics.json"))
        ref = load(os.path.join(d, "reference.json"))
        log = open(os.path.join(d, "train.log")).read()
        m = re.search(r"\(([0-9.]+) s per epoch\)", log)
        n_train = re.search(r"(\d+) (?:training )?images", log)
        check(c, ours, checked, "")
        print(f"| {c} | {n_train.group(1) if n_train else '?'} / {ours['n_good'] + ours['n_defect']} "
              f"| {fmt(ours['image_auroc'])} | {fmt(ours['pixel_auroc'])} | {fmt(ours.get('pro'))} "
              f"| {fmt(ref.get('image_auroc'))} | {fmt(ref.get('pixel_auroc'))} | {fmt(ref.get('pro'))} "
              f"| {m.group(1) if m else '?'} | {ref['seconds_per_epoch']:.1f} |")
    print(f"\nresnet18 (ImageNet weights), 3x3-only, 8 flow steps, batch 32, {a.epochs} epochs, seed 0, "
          f"256x256, 2 threads.")
    seed_table(a.out, a.categories)


if __name__ == "__main__":
    main()
