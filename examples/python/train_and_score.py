#!/usr/bin/env python3
"""Train a FastFlow model on a folder of normal images, then score another.

    python3 train_and_score.py --weights resnet18.safetensors \\
        --train bottle/train/good --test bottle/test --epochs 10 --out bottle.safetensors

Prints a progress bar while training, then one "path score" line per test
image (higher = more anomalous). With --val N, the last N training images are
held out to calibrate a threshold (stored in the saved model), and each line
ends with the decision, "anomalous" or "normal". Test images are searched recursively; when
they sit in folders named like MVTec AD's (test/good, test/<defect>), the
image AUROC over them is printed too. With --heatmaps DIR, each test image's
anomaly map is written as a PNG overlay (one colour range for all images, so
colours compare). The library is found as the fastflow package documents
(FASTFLOW_LIBRARY, the build tree, the system).
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import fastflow
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
    import fastflow

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def find_images(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_EXTENSIONS)]
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True, help="backbone weights (safetensors state dict)")
    ap.add_argument("--backbone", default="resnet18", help="architecture of the weights (default resnet18)")
    ap.add_argument("--train", required=True, help="folder of normal images")
    ap.add_argument("--test", required=True, help="folder of images to score (searched recursively)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=256, help="model input side (divisible by 16)")
    ap.add_argument("--steps", type=int, default=8, help="flow steps")
    ap.add_argument("--max-train", type=int, default=0, help="use at most this many training images (0: all)")
    ap.add_argument("--val", type=int, default=0,
                    help="hold out this many training images to calibrate the threshold")
    ap.add_argument("--out", help="save the trained model here")
    ap.add_argument("--heatmaps", help="write anomaly-map overlays (PNG) into this folder")
    ap.add_argument("--quiet", action="store_true", help="no progress display")
    args = ap.parse_args()

    train = find_images(args.train)
    if args.max_train:
        train = train[:args.max_train]
    val = train[len(train) - args.val:] if args.val > 0 else []
    train = train[:len(train) - len(val)]
    if not train:
        ap.error("no training images in %s (after holding out %d)" % (args.train, len(val)))

    with fastflow.Backbone.load(args.backbone, args.weights) as backbone, \
            fastflow.Flow.create(backbone, input_size=args.size, steps=args.steps) as untrained, \
            fastflow.Trainer(untrained, batch_size=args.batch) as trainer:
        for path in train:
            trainer.add(path)  # features are computed once here and cached
        print("training on %d images (%.1f MiB of cached features)"
              % (trainer.num_images, trainer.feature_bytes / 2.0 ** 20), file=sys.stderr)
        losses = trainer.fit(args.epochs, progress=not args.quiet)
        print("final epoch mean loss %.6g" % losses[-1], file=sys.stderr)
        model = trainer.snapshot()

    if val:
        # normal held-out images: the threshold is the largest of their scores
        with model:
            model = model.calibrate(val, source="held-out %d" % len(val))
        print("image threshold %.6g (from %d held-out images)" % (model.statistics["image_threshold"], len(val)),
              file=sys.stderr)

    with model:
        if args.out:
            model.save(args.out)
        test = find_images(args.test)
        results = []
        with model.scorer() as scorer:
            for path in test:
                r = scorer.score(path, map=bool(args.heatmaps))
                results.append((path, r))
                decision = "" if r.anomalous is None else (" anomalous" if r.anomalous else " normal")
                print("%s %.9g%s" % (path, r.score, decision))
        labels = [0 if os.path.basename(os.path.dirname(p)) == "good" else 1 for p, _ in results]
        if 0 < sum(labels) < len(labels):
            print("image AUROC %.4f over %d images" % (fastflow.auroc([r.score for _, r in results], labels),
                                                     len(results)))
        if args.heatmaps:
            os.makedirs(args.heatmaps, exist_ok=True)
            values = [v for _, r in results for v in memoryview(r.map).cast("B").cast("f")]
            lo, hi = min(values), max(values)
            for path, r in results:
                rel = os.path.relpath(path, args.test).replace(os.sep, "_")
                overlay = fastflow.image.render_heatmap(r.map, lo, hi if hi > lo else lo + 1e-6,
                                                        image=fastflow.image.decode(path), alpha=0.5)
                fastflow.image.write_png(os.path.join(args.heatmaps, os.path.splitext(rel)[0] + ".png"), overlay)
    return 0


if __name__ == "__main__":
    sys.exit(main())
