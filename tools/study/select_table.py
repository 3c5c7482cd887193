#!/usr/bin/env python3
"""The table of the stopping-criteria study (docs/results.md, "Choosing the epoch").

Reads OUT/SET-seedS.jsonl (tools/study/select_study; an unfinished OUT/SET-seedS.jsonl.part is used too,
marked) and replays every selection rule on the recorded epochs:
  fixed-10        the fixed 10-epoch baseline (epoch 10's test metrics)
  hindsight       the epoch with the best test image AUROC (the ceiling of looking at the test set)
  C (synthetic)   --epochs auto with criterion C on held-out normal images + synthetic anomalies
  C (val)         the same on a handful of real labelled defects (--val)
  ema ...         the same rules applied to the exponential moving average of the parameters
with patience P (--patience, default 3) and at most N epochs (--max-epochs, default: the runs' maximum).
Per set: each rule's chosen epochs (per seed), mean test image AUROC / pixel AUROC / PRO over the seeds and
the difference to fixed-10; then the mean differences over all sets and the worst set, and each rule's
training time relative to fixed-10 (epochs run, plus the time spent scoring the selection set).

usage: select_table.py OUT [--patience P] [--max-epochs N] [--group GROUP]
"""
import argparse
import glob
import json
import math
import os
import re

CRITERIA = ["normal-spread", "normal-mean", "image-auroc", "pixel-auroc", "mean-auroc"]
LOWER_BETTER = {"normal-spread", "normal-mean"}


def load(path):
    head, epochs, ema = None, {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except ValueError:
                continue  # a line being written
            if "epoch" in d:
                epochs[d["epoch"]] = d
            elif "ema_epoch" in d:
                ema[d["ema_epoch"]] = d["test"]
            else:
                head = d
    return head, epochs, ema


def choose(values, higher, patience, max_epochs):
    """(chosen epoch, epochs run) of --epochs auto on values[e] (1-based dict)."""
    best, best_e, since, run = None, 0, 0, 0
    for e in range(1, max_epochs + 1):
        v = values.get(e)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return (best_e, run) if best_e else (None, run)
        run = e
        if best_e == 0 or (v > best if higher else v < best):
            best, best_e, since = v, e, 0
        else:
            since += 1
        if since >= patience:
            break
    return best_e, run


def rules(epochs, ema, patience, max_epochs, group):
    """{rule: (epoch, metrics dict or None, epochs run)} for one run."""
    out = {}
    def raw_test(e):
        return epochs[e]["raw"]["test"].get(group) if e in epochs else None
    def ema_test(e):
        return ema[e].get(group) if e in ema else None
    if 10 in epochs:
        out["fixed-10"] = (10, raw_test(10), 10)
    if 10 in ema:
        out["ema fixed-10"] = (10, ema_test(10), 10)
    avail = [e for e in sorted(epochs) if e <= max_epochs]
    if avail:
        best = max(avail, key=lambda e: (raw_test(e)["image_auroc"], -e))
        out["hindsight"] = (best, raw_test(best), max_epochs)
    for kind in ("synthetic", "val"):
        for c in CRITERIA:
            for which in ("raw", "ema"):
                vals = {e: d[which].get(kind, {}).get(c) for e, d in epochs.items()}
                if all(v is None for v in vals.values()):
                    continue
                e, run = choose(vals, c not in LOWER_BETTER, patience, max_epochs)
                if e is None:
                    continue
                name = ("ema " if which == "ema" else "") + "%s (%s)" % (c, kind)
                out[name] = (e, raw_test(e) if which == "raw" else ema_test(e), run)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--max-epochs", type=int, default=0)
    ap.add_argument("--curves", action="store_true", help="also print every run's per-epoch figures")
    args = ap.parse_args()
    files = sorted(glob.glob(os.path.join(args.out, "*-seed*.jsonl")) +
                   glob.glob(os.path.join(args.out, "*-seed*.jsonl.part")))
    sets = {}
    for p in files:
        m = re.match(r"(.*)-seed(\d+)\.jsonl(\.part)?$", os.path.basename(p))
        head, epochs, ema = load(p)
        if not epochs:
            continue
        groups = list(next(iter(epochs.values()))["raw"]["test"].keys())
        for g in groups:
            name = m.group(1) if g == "all" else "%s [%s types]" % (m.group(1), g)
            sets.setdefault(name, []).append((int(m.group(2)), bool(m.group(3)), head, epochs, ema, g))
    table = {}
    max_all = args.max_epochs or max((r[2]["max_epochs"] for rs in sets.values() for r in rs), default=0)
    for name in list(sets):
        # a run that has not reached the maximum epoch cannot be replayed fairly (no fixed-10, no late epochs)
        done = [r for r in sets[name] if len(r[3]) >= max_all]
        for r in sets[name]:
            if r not in done:
                print("(%s seed %d left out: %d of %d epochs recorded)" % (name, r[0], len(r[3]), max_all))
        if done:
            sets[name] = done
        else:
            del sets[name]
    print()
    print("| set | seeds (epochs recorded) | rule | chosen epochs | image AUROC | pixel AUROC | PRO | "
          "d image | d pixel | time vs fixed-10 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in sorted(sets):
        runs = sets[name]
        max_e = args.max_epochs or max(r[2]["max_epochs"] for r in runs)
        per_rule = {}
        for seed, partial, head, epochs, ema, g in runs:
            for rule, (e, met, run) in rules(epochs, ema, args.patience, max_e, g).items():
                t_run = sum(epochs[k]["train_s"] + (epochs[k]["select_s"] if "fixed" not in rule and rule != "hindsight" else 0)
                            for k in range(1, run + 1) if k in epochs)
                t_10 = sum(epochs[k]["train_s"] for k in range(1, 11) if k in epochs)
                per_rule.setdefault(rule, []).append((seed, e, met, t_run / t_10 if t_10 else float("nan")))
        seeds_desc = ", ".join("%d (%d%s)" % (r[0], len(r[3]), " unfinished" if r[1] else "") for r in runs)
        base = per_rule.get("fixed-10")
        def mean(xs):
            xs = [x for x in xs if x is not None and not math.isnan(x)]
            return sum(xs) / len(xs) if xs else float("nan")
        base_img = mean([m["image_auroc"] for _, _, m, _ in base]) if base else float("nan")
        base_pix = mean([m["pixel_auroc"] for _, _, m, _ in base]) if base else float("nan")
        for rule in sorted(per_rule, key=lambda r: (r != "fixed-10", r != "hindsight", r)):
            rows = [r for r in per_rule[rule] if r[2] is not None]
            if not rows:
                continue
            img = mean([m["image_auroc"] for _, _, m, _ in rows])
            pix = mean([m["pixel_auroc"] for _, _, m, _ in rows])
            pro = mean([m["pro"] for _, _, m, _ in rows])
            tm = mean([t for _, _, _, t in rows])
            table.setdefault(rule, {})[name] = (img - base_img, pix - base_pix)
            print("| %s | %s | %s | %s | %.4f | %.4f | %.4f | %+.4f | %+.4f | %.2f |" % (
                name, seeds_desc, rule, " ".join(str(e) for _, e, _, _ in rows), img, pix, pro,
                img - base_img, pix - base_pix, tm))
    if args.curves:
        print()
        print("Per epoch (trained parameters): test image AUROC / pixel AUROC; criteria mean-auroc (synthetic), "
              "normal-mean (synthetic), mean-auroc (val)")
        print()
        print("| set | seed | epoch | image AUROC | pixel AUROC | mean-auroc (synthetic) | normal-mean | mean-auroc (val) |")
        print("|---|---|---|---|---|---|---|---|")
        for name in sorted(sets):
            for seed, partial, head, epochs, ema, g in sets[name]:
                for e in sorted(epochs):
                    d = epochs[e]["raw"]
                    t = d["test"][g]
                    print("| %s | %d | %d | %.4f | %.4f | %.4f | %.5f | %s |" % (
                        name, seed, e, t["image_auroc"], t["pixel_auroc"], d["synthetic"].get("mean-auroc", float("nan")),
                        d["synthetic"].get("normal-mean", float("nan")),
                        "%.4f" % d["val"]["mean-auroc"] if "val" in d and "mean-auroc" in d["val"] else "-"))
    print()
    print("Over all sets (mean of the per-set differences to fixed-10; worst set):")
    print()
    print("| rule | sets | mean d image AUROC | mean d pixel AUROC | worst d image | worst d pixel |")
    print("|---|---|---|---|---|---|")
    for rule in sorted(table):
        d = [v for v in table[rule].values() if not math.isnan(v[0])]
        if not d:
            continue
        print("| %s | %d | %+.4f | %+.4f | %+.4f | %+.4f |" % (
            rule, len(d), sum(x[0] for x in d) / len(d), sum(x[1] for x in d) / len(d),
            min(x[0] for x in d), min(x[1] for x in d)))


if __name__ == "__main__":
    main()
