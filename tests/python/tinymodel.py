"""A tiny trained model for fast tests: random resnet18 weights, a 64x64
flow with 2 steps, one epoch on six synthetic images. Built once per test
process in a private temporary folder (~seconds)."""

import os
import shutil
import tempfile

import fastflow
import support

SIZE = 64
TRAIN_SEEDS = range(6)


class TinyModel:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ff-py-", dir=support.tmp_root())
        self.weights = support.write_random_backbone(os.path.join(self.dir, "resnet18-random.safetensors"), seed=7)
        self.backbone = fastflow.Backbone.load("resnet18", self.weights)
        self.untrained = fastflow.Flow.create(self.backbone, input_size=SIZE, steps=2, seed=3)
        self.train_images = [support.synthetic_image_obj(s, 80, 72) for s in TRAIN_SEEDS]
        with fastflow.Trainer(self.untrained, batch_size=4, seed=5) as tr:
            for im in self.train_images:
                tr.add(im)
            self.losses = tr.fit(1)
            self.flow = tr.snapshot()
        self.model_path = os.path.join(self.dir, "tiny-model.safetensors")
        self.flow.save(self.model_path)
        # test images as PNG files: two normal, two with a bright square
        self.test_paths = []
        for i, defect in enumerate([False, False, True, True]):
            p = os.path.join(self.dir, "test_%d.png" % i)
            fastflow.image.write_png(p, support.synthetic_image_obj(100 + i, 96, 80, defect))
            self.test_paths.append(p)

    def close(self):
        for h in (self.flow, self.untrained, self.backbone):
            h.close()
        shutil.rmtree(self.dir, ignore_errors=True)


_model = None


def get():
    global _model
    if _model is None:
        _model = TinyModel()
    return _model


def release():
    global _model
    if _model is not None:
        _model.close()
        _model = None
