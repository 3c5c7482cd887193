"""Slow suite: the binding on the real resnet18 weights and bottle images.

Trains briefly through the binding (a few images, one epoch, 256x256 as the
spec's default), saves the model, and checks that the `fastflow score`
command gives the same scores and maps bit for bit on good and defective
test images, and that the binding's image AUROC on them is computed.
Skipped without ../shared (fails under CI=true, see run_tests.py)."""

import os
import shutil
import tempfile
import unittest

import fastflow
import support
import test_cli_match

SHARED = support.shared_dir()
WEIGHTS = os.path.join(SHARED, "weights", "resnet18-in1k-to-layer3.safetensors") if SHARED else None
BOTTLE = os.path.join(SHARED, "datasets", "bottle") if SHARED else None


def available():
    return WEIGHTS and os.path.exists(WEIGHTS) and os.path.isdir(os.path.join(BOTTLE, "train", "good"))


@unittest.skipUnless(available(), "../shared weights or the bottle data set are absent")
@unittest.skipUnless(test_cli_match.cli(), "FF_CLI (the fastflow command) not given")
class TestRealWeights(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ff-py-real-", dir=support.tmp_root())

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_binding_equals_cli(self):
        good = sorted(os.listdir(os.path.join(BOTTLE, "train", "good")))[:8]
        with fastflow.Backbone.load("resnet18", WEIGHTS) as bb, \
                fastflow.Flow.create(bb, steps=8) as untrained, \
                fastflow.Trainer(untrained, batch_size=4) as tr:
            for name in good:
                tr.add(os.path.join(BOTTLE, "train", "good", name))
            losses = tr.fit(1)
            self.assertEqual(len(losses), 1)
            model = os.path.join(self.dir, "bottle.safetensors")
            with tr.snapshot() as flow:
                flow.save(model)
        # two test images per type, linked under unique names (stems repeat
        # across defect types) so that one CLI run scores them all
        test_dir = os.path.join(BOTTLE, "test")
        images, labels = [], []
        for kind in sorted(os.listdir(test_dir)):
            for n in sorted(os.listdir(os.path.join(test_dir, kind)))[:2]:
                link = os.path.join(self.dir, "%s_%s" % (kind, n))
                os.symlink(os.path.join(test_dir, kind, n), link)
                images.append(link)
                labels.append(0 if kind == "good" else 1)
        with fastflow.Flow.load(model) as flow:
            by_path = test_cli_match.compare(self, model, images, flow, os.path.join(self.dir, "maps"))
        scores = [by_path[p] for p in images]
        self.assertIn(0, labels)
        self.assertIn(1, labels)
        auc = fastflow.auroc(scores, labels)
        self.assertTrue(0.0 <= auc <= 1.0)
        print("bottle, 8 training images, 1 epoch: image AUROC on %d test images %.3f" % (len(images), auc))


if __name__ == "__main__":
    unittest.main()
