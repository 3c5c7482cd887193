"""The binding's maps and scores equal the `fastflow score` command's on the
same model and images, bit for bit (fast suite: the tiny random model).

The CLI is $FF_CLI (meson passes the built `fastflow`); it prints each score
with %.9g, which round-trips float32 exactly, and writes each map as
DIR/<stem>.npy (float32, C order)."""

import os
import struct
import subprocess
import unittest

import fastflow
import support
import tinymodel


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def cli():
    return os.environ.get("FF_CLI")


def setUpModule():
    if cli():
        tinymodel.get()


def tearDownModule():
    tinymodel.release()


def run_cli_score(model, images, maps_dir, args=(), decisions=None):
    out = subprocess.run([cli(), "score", "--model", model, "--maps", maps_dir] + list(args) + list(images),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if out.returncode != 0:
        raise AssertionError("fastflow score failed (%d): %s" % (out.returncode, out.stderr))
    scores = {}
    for line in out.stdout.splitlines():
        fields = line.split(" ")  # path score [anomalous|normal]
        scores[fields[0]] = f32(fields[1])
        if decisions is not None and len(fields) > 2:
            decisions[fields[0]] = fields[2] == "anomalous"
    return scores


# CLI options and the same options for a Scorer
CLI_OPTIONS = {"map_size": "--map-size", "smooth_sigma": "--sigma"}


def compare(test, model_path, images, flow, maps_dir, **options):
    """Scores `images` with the CLI and with the binding (path, bytes and
    pixels), both with the given scorer options; scores, maps and decisions
    must be identical."""
    args = []
    for k, v in options.items():
        if k == "normalized":
            args += ["--normalized"] if v else []
        else:
            args += [CLI_OPTIONS[k], str(v)]
    decisions = {}
    cli_scores = run_cli_score(model_path, images, maps_dir, args, decisions)
    test.assertEqual(sorted(cli_scores), sorted(images))
    if options.get("normalized"):
        test.assertEqual(sorted(decisions), sorted(images))
    with flow.scorer(**options) as sc:
        for p in images:
            shape, cli_map = support.read_npy(os.path.join(maps_dir, os.path.splitext(os.path.basename(p))[0] + ".npy"))
            w, h, _ = fastflow.image.probe(p)
            test.assertEqual(shape, sc.map_shape_for(w, h))
            with open(p, "rb") as f:
                encoded = f.read()
            for name, x in (("path", p), ("bytes", encoded), ("pixels", fastflow.image.decode(p))):
                r = sc.score(x)
                test.assertEqual(r.score, cli_scores[p], "%s via %s" % (p, name))
                if p in decisions:
                    test.assertEqual(r.anomalous, decisions[p], "%s via %s" % (p, name))
                got = support.flat(r.map)
                test.assertEqual(len(got), len(cli_map))
                diff = sum(1 for a, b in zip(got, cli_map) if a != b)
                test.assertEqual(diff, 0, "%s via %s: %d map values differ from the CLI's" % (p, name, diff))
    return cli_scores


@unittest.skipUnless(cli(), "FF_CLI (the fastflow command) not given")
class TestCliMatch(unittest.TestCase):
    def test_tiny_model(self):
        m = tinymodel.get()
        maps = os.path.join(m.dir, "cli-maps")
        with fastflow.Flow.load(m.model_path) as flow:
            scores = compare(self, m.model_path, m.test_paths, flow, maps)
        # and the in-memory flow the file was saved from agrees too
        for p in m.test_paths:
            self.assertEqual(m.flow.score(p).score, scores[p])

    def test_options_and_statistics(self):
        # a model calibrated on the two normal test images; every scorer
        # option on, as the CLI's --normalized --sigma --map-size
        m = tinymodel.get()
        path = os.path.join(m.dir, "calibrated-cli.safetensors")
        with m.flow.calibrate(m.test_paths[:2], smooth_sigma=1.5) as cal:
            cal.save(path)
        with fastflow.Flow.load(path) as flow:
            for i, options in enumerate([dict(normalized=True, smooth_sigma=1.5, map_size="image"),
                                         dict(map_size="image"), dict(smooth_sigma=0.75)]):
                compare(self, path, m.test_paths, flow, os.path.join(m.dir, "cli-maps-%d" % i), **options)


    def test_train_epochs_auto(self):
        # `fastflow train --epochs auto` and the binding's train_auto with the
        # CLI's held-out split: the same record and the same parameters
        m = tinymodel.get()
        data = os.path.join(m.dir, "auto-set")
        paths = support.write_image_folder(os.path.join(data, "train", "good"), 12, 72, seed=21)
        out = os.path.join(m.dir, "auto-cli.safetensors")
        run = subprocess.run([cli(), "train", "--data", data, "--backbone", "resnet18", "--weights", m.weights,
                              "--batch", "3", "--flow-steps", "1", "--size", "64", "--seed", "3", "--epochs", "auto",
                              "--max-epochs", "3", "--patience", "1", "--select", "mean-auroc", "--out", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        held = fastflow.selector.held_out(len(paths), 3)
        with fastflow.Flow.create(m.backbone, input_size=64, steps=1, seed=3) as start:
            with fastflow.Trainer(start, batch_size=3, seed=3) as tr:
                for i, p in enumerate(paths):
                    if i not in held:
                        tr.add(p)
                flow, epoch = tr.train_auto([paths[i] for i in held], criterion="mean-auroc", max_epochs=3,
                                            patience=1)
        with flow, fastflow.Flow.load(out) as saved:
            self.assertEqual(flow.training_record, saved.training_record)
            self.assertIn('"chosen_epoch":%d,' % epoch, saved.training_record)
            for p in m.test_paths:
                self.assertEqual(support.flat(flow.score(p).map), support.flat(saved.score(p).map))


if __name__ == "__main__":
    unittest.main()
