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


def run_cli_score(model, images, maps_dir):
    out = subprocess.run([cli(), "score", "--model", model, "--maps", maps_dir] + list(images),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if out.returncode != 0:
        raise AssertionError("fastflow score failed (%d): %s" % (out.returncode, out.stderr))
    scores = {}
    for line in out.stdout.splitlines():
        path, value = line.rsplit(" ", 1)
        scores[path] = f32(value)
    return scores


def compare(test, model_path, images, flow, maps_dir):
    """Scores `images` with the CLI and with the binding (path, bytes and
    pixels); everything must be identical."""
    cli_scores = run_cli_score(model_path, images, maps_dir)
    test.assertEqual(sorted(cli_scores), sorted(images))
    with flow.scorer() as sc:
        for p in images:
            shape, cli_map = support.read_npy(os.path.join(maps_dir, os.path.splitext(os.path.basename(p))[0] + ".npy"))
            test.assertEqual(shape, sc.map_shape)
            with open(p, "rb") as f:
                encoded = f.read()
            for name, x in (("path", p), ("bytes", encoded), ("pixels", fastflow.image.decode(p))):
                r = sc.score(x)
                test.assertEqual(r.score, cli_scores[p], "%s via %s" % (p, name))
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


if __name__ == "__main__":
    unittest.main()
