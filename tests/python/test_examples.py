"""Runs the examples (examples/) on the tiny random model (fast suite) and
the Python one on the bottle data set with the real weights (slow suite).

The executables come from meson: FF_EXAMPLE_C, FF_EXAMPLE_CXX (empty when
there is no C++ compiler) and FF_EXAMPLE_PY (the script)."""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

import fastflow
import support
import tinymodel


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def parse_scores(stdout, decisions=None):
    """{path: score} of "path score [decision]" lines; decisions (a dict)
    receives the decisions when present."""
    out = {}
    for line in stdout.splitlines():
        if " " in line and not line.startswith("image AUROC"):
            fields = line.split(" ")
            out[fields[0]] = f32(fields[1])
            if len(fields) > 2 and decisions is not None:
                decisions[fields[0]] = fields[2]
    return out


def tearDownModule():
    tinymodel.release()


@unittest.skipUnless(os.environ.get("FF_EXAMPLE_C"), "FF_EXAMPLE_C not given")
class TestCExample(unittest.TestCase):
    def test_score_and_heatmap(self):
        m = tinymodel.get()
        exe = os.environ["FF_EXAMPLE_C"]
        image = m.test_paths[2]
        png = os.path.join(m.dir, "example-heatmap.png")
        r = run([exe, m.model_path, image, png])
        self.assertEqual(r.returncode, 0, r.stderr)
        want = m.flow.score(image)
        self.assertEqual(parse_scores(r.stdout), {image: want.score})
        # the heatmap: the map over the image at the map's size, coloured
        # from the map's minimum to its maximum, as the example documents
        values = support.flat(want.map)
        expect = fastflow.image.render_heatmap(want.map, min(values), max(values),
                                               image=fastflow.image.decode(image), alpha=0.5)
        got = fastflow.image.decode(png)
        self.assertEqual((got.width, got.height), (64, 64))
        self.assertEqual(got.tobytes(), expect.tobytes())

    def test_decision_with_a_threshold(self):
        m = tinymodel.get()
        exe = os.environ["FF_EXAMPLE_C"]
        path = os.path.join(m.dir, "example-calibrated.safetensors")
        with m.flow.calibrate(m.test_paths[:2]) as cal:
            cal.save(path)
            for image in m.test_paths:
                r = run([exe, path, image])
                self.assertEqual(r.returncode, 0, r.stderr)
                want = cal.score(image)
                self.assertEqual(r.stdout, "%s %s %s\n" % (image, r.stdout.split(" ")[1],
                                                           "anomalous" if want.anomalous else "normal"))
                self.assertEqual(f32(r.stdout.split(" ")[1]), want.score)

    def test_errors(self):
        m = tinymodel.get()
        exe = os.environ["FF_EXAMPLE_C"]
        r = run([exe])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)
        r = run([exe, m.model_path, os.path.join(m.dir, "missing.png")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.png", r.stderr)
        r = run([exe, m.test_paths[0], m.test_paths[0]])  # a PNG is not a model
        self.assertEqual(r.returncode, 1)
        self.assertIn(fastflow.errors.status_string(fastflow.errors.BAD_FORMAT), r.stderr)


@unittest.skipUnless(os.environ.get("FF_EXAMPLE_CXX"), "no C++ compiler: the C++ example was not built")
class TestCppExample(unittest.TestCase):
    def test_scores_and_exceptions(self):
        m = tinymodel.get()
        exe = os.environ["FF_EXAMPLE_CXX"]
        missing = os.path.join(m.dir, "missing.png")
        r = run([exe, m.model_path] + m.test_paths + [missing])
        self.assertEqual(r.returncode, 1)  # the missing file
        self.assertEqual(parse_scores(r.stdout), {p: m.flow.score(p).score for p in m.test_paths})
        self.assertIn("missing.png", r.stderr)
        self.assertIn("(status %d)" % fastflow.errors.IO, r.stderr)
        r = run([exe, os.path.join(m.dir, "no-model.safetensors"), m.test_paths[0]])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-model.safetensors", r.stderr)


@unittest.skipUnless(os.environ.get("FF_EXAMPLE_PY"), "FF_EXAMPLE_PY not given")
class TestPythonExample(unittest.TestCase):
    def test_train_and_score_synthetic(self):
        d = tempfile.mkdtemp(prefix="ff-py-example-", dir=support.tmp_root())
        try:
            weights = support.write_random_backbone(os.path.join(d, "w.safetensors"), seed=2)
            support.write_image_folder(os.path.join(d, "train"), 7, 64, seed=1)
            good = support.write_image_folder(os.path.join(d, "test", "good"), 2, 64, seed=2)
            bad = support.write_image_folder(os.path.join(d, "test", "spot"), 2, 64, seed=3, defect=True)
            model = os.path.join(d, "model.safetensors")
            heat = os.path.join(d, "heatmaps")
            r = run([sys.executable, os.environ["FF_EXAMPLE_PY"], "--weights", weights, "--train",
                     os.path.join(d, "train"), "--test", os.path.join(d, "test"), "--epochs", "2", "--batch", "2",
                     "--size", "64", "--steps", "2", "--val", "2", "--out", model, "--heatmaps", heat])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("training on 5 images", r.stderr)
            self.assertIn("epoch 2/2", r.stderr)
            decisions = {}
            scores = parse_scores(r.stdout, decisions)
            self.assertEqual(sorted(scores), sorted(good + bad))
            self.assertIn("image threshold", r.stderr)
            self.assertRegex(r.stdout, r"image AUROC [01]\.\d{4} over 4 images")
            with fastflow.Flow.load(model) as flow:
                self.assertEqual(flow.input_size, (64, 64))
                thr = flow.statistics["image_threshold"]
                for p, s in scores.items():
                    self.assertEqual(flow.score(p).score, s)
                    self.assertEqual(decisions[p], "anomalous" if s >= thr else "normal")
                # the threshold is the largest score of the two held-out images
                train = sorted(os.listdir(os.path.join(d, "train")))
                held = [flow.score(os.path.join(d, "train", n)).score for n in train[-2:]]
                self.assertEqual(thr, max(held))
            pngs = sorted(os.listdir(heat))
            self.assertEqual(pngs, ["good_000.png", "good_001.png", "spot_000.png", "spot_001.png"])
            self.assertEqual(fastflow.image.probe(os.path.join(heat, pngs[0])), (64, 64, 3))
        finally:
            shutil.rmtree(d, ignore_errors=True)


SHARED = support.shared_dir()


@unittest.skipUnless(os.environ.get("FF_EXAMPLE_PY"), "FF_EXAMPLE_PY not given")
@unittest.skipUnless(SHARED and os.path.exists(os.path.join(SHARED, "weights", "resnet18-in1k-to-layer3.safetensors")),
                     "../shared weights are absent")
class TestPythonExampleBottle(unittest.TestCase):
    def test_bottle(self):
        d = tempfile.mkdtemp(prefix="ff-py-example-bottle-", dir=support.tmp_root())
        try:
            bottle = os.path.join(SHARED, "datasets", "bottle")
            # a small test folder: two images of each type, linked
            for kind in sorted(os.listdir(os.path.join(bottle, "test"))):
                os.makedirs(os.path.join(d, "test", kind))
                for n in sorted(os.listdir(os.path.join(bottle, "test", kind)))[:2]:
                    os.symlink(os.path.join(bottle, "test", kind, n), os.path.join(d, "test", kind, n))
            r = run([sys.executable, os.environ["FF_EXAMPLE_PY"], "--weights",
                     os.path.join(SHARED, "weights", "resnet18-in1k-to-layer3.safetensors"),
                     "--train", os.path.join(bottle, "train", "good"), "--max-train", "16", "--epochs", "1",
                     "--batch", "8", "--test", os.path.join(d, "test")])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("training on 16 images", r.stderr)
            self.assertEqual(len(parse_scores(r.stdout)), 8)
            self.assertRegex(r.stdout, r"image AUROC [01]\.\d{4} over 8 images")
            print(r.stdout.splitlines()[-1])
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
