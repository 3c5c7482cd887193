"""Exports the PyTorch reference's inference graph (torchvision resnet18 to
layer3 + tools/reference/fastflow_ref.py's flows + the anomaly map) to ONNX
for the ONNX Runtime peer benchmark (bench/run_ort.sh), with the parameters
of a libfastflow model file, and writes the benchmark's inputs and the
PyTorch float32 maps they give:

  OUT/model.onnx       input "x" [N, 3, S, S] float32 (dynamic N) -> "map" [N, S, S]
  OUT/inputs.f32       8 pre-processed images [8, 3, S, S], raw float32
  OUT/maps_torch.f32   PyTorch's maps of them [8, S, S], raw float32

usage: PYTHONPATH=python FASTFLOW_LIBRARY=build/lib/libfastflow.so \
       /usr/bin/python3 bench/ort_export.py --model MODEL.safetensors --weights RESNET18.safetensors \
                                            --images DIR --out OUT
(Debian's torch, no torchvision needed: the backbone is written out here; the
images of --images, the first 8, are pre-processed by libfastflow's
ff_image_preprocess, which equals torchvision's resize bit for bit)
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "reference"))
import fastflow  # noqa: E402  (the Python binding: pre-processing)
import fastflow_ref  # noqa: E402
import st_io  # noqa: E402

nn = torch.nn


class Block(nn.Module):
    """torchvision's BasicBlock (eval mode), named like its state dict."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class Inference(nn.Module):
    """resnet18 to layer3, the flows and the anomaly map in one graph."""

    def __init__(self, flow):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(Block(64, 64, 1), Block(64, 64, 1))
        self.layer2 = nn.Sequential(Block(64, 128, 2), Block(128, 128, 1))
        self.layer3 = nn.Sequential(Block(128, 256, 2), Block(256, 256, 1))
        self.flow = flow

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        f0 = self.layer1(x)
        f1 = self.layer2(f0)
        f2 = self.layer3(f1)
        zs, _, _ = self.flow([f0, f1, f2])
        return self.flow.anomaly_map(zs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--images", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    _, meta = st_io.load(a.model)
    size = int(meta["input_height"])
    shapes = [(64, size // 4, size // 4), (128, size // 8, size // 8), (256, size // 16, size // 16)]
    net = Inference(fastflow_ref.from_model_file(a.model, shapes, size))
    weights, _ = st_io.load(a.weights)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()
             if not k.startswith(("layer4.", "fc.")) and not k.endswith("num_batches_tracked")}
    missing = [k for k in net.load_state_dict(state, strict=False).missing_keys if not k.startswith("flow.")]
    if missing:
        sys.exit("%s: missing %s" % (a.weights, missing[:5]))
    net.eval()
    paths = sorted(os.path.join(a.images, f) for f in os.listdir(a.images)
                   if f.lower().endswith((".png", ".jpg", ".jpeg")))[:8]
    if len(paths) < 8:
        sys.exit("%s: fewer than 8 images" % a.images)
    x = torch.stack([torch.from_numpy(np.asarray(fastflow.image.preprocess(fastflow.image.decode(p), size, size)))
                     for p in paths]).contiguous()
    with torch.no_grad():
        maps = net(x)
        torch.onnx.export(net, x[:1], os.path.join(a.out, "model.onnx"), input_names=["x"], output_names=["map"],
                          dynamic_axes={"x": {0: "n"}, "map": {0: "n"}}, opset_version=17)
    x.numpy().astype(np.float32).tofile(os.path.join(a.out, "inputs.f32"))
    maps.numpy().astype(np.float32).tofile(os.path.join(a.out, "maps_torch.f32"))
    print("wrote %s/model.onnx, inputs.f32, maps_torch.f32 (8 images, %dx%d)" % (a.out, size, size))


if __name__ == "__main__":
    main()
