"""Golden files for the ResNet backbones (lib/backbone).

Run from the repository root:
    /usr/bin/python3 tools/reference/gen_backbone_golden.py [--shared ../shared]

torchvision's own ResNets in eval mode are the reference: stem (conv1, bn1,
relu, maxpool), then layer1..layer3, whose outputs are the three feature
maps.

1. tests/golden/backbone_resnet18_real.safetensors: the real weights
   <shared>/weights/resnet18-in1k-to-layer3.safetensors on
   <shared>/samples/bottle_good_000.png, pre-processed as anomalib does
   (to_tensor, Resize(256x256, antialias=True) on the float tensor, ImageNet
   normalisation). The pre-processed tensor itself is stored, so the C test
   does not depend on the image code:
     input       F32 [1, 3, 256, 256]
     features.L  F32 [1, C, H, W] for L = 0, 1, 2 (layer1, layer2, layer3)

2. tests/golden/backbone_<arch>_random.safetensors for resnet34, resnet50
   and wide_resnet50_2: seeded random weights (random BatchNorm statistics
   too) on a small random batch. The weights (70 MB for wide_resnet50_2)
   are NOT stored: tests/test_backbone.c regenerates them with the same
   generator (below), so only these are committed:
     input       F32 [N, 3, S, S]
     features.L  F32 [N, C, H, W]
     check.first F32 [8]  first 8 generated weight values (conv1.weight)
     check.last  F32 [8]  last 8 (the last tensor up to layer3), which pins
                          the tensor order and sizes as well
   metadata: arch, seed, input_seed, batch, size.

The generator (identical in test_backbone.c): splitmix64 used as a counter
generator. Value i (0-based) of a stream with seed s is
    z = s + (i + 1) * 0x9E3779B97F4A7C15              (mod 2^64)
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9           (mod 2^64)
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB           (mod 2^64)
    z = z ^ (z >> 31)
    u = (z >> 40) * 2^-24                              (exact float32 in [0, 1))
The weights use one stream with seed `seed`, its index running on over the
tensors in torchvision's state-dict order (num_batches_tracked, layer4 and
fc skipped). With u the next value, in float32 arithmetic:
    convK.weight / downsample.0.weight   (2u - 1) * a, a = float32(sqrt(6 / fan_in))
    bn*.weight                           u + 0.5
    bn*.bias, bn*.running_mean           0.2u - 0.1
    bn*.running_var                      u + 0.5
The input uses a stream with seed `input_seed`: 4u - 2.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
RANDOM_CASES = [  # arch, seed, input_seed, batch, size
    ("resnet34", 34, 1034, 2, 64),
    ("resnet50", 50, 1050, 2, 64),
    ("wide_resnet50_2", 502, 1502, 2, 32),
]

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def uniform(seed, start, n):
    """Values start..start+n-1 of the splitmix64 stream `seed`, float32."""
    with np.errstate(over="ignore"):
        i = np.arange(start + 1, start + n + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(2.0 ** -24)


def to_layer3(model, x):
    m = model
    x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    f0 = m.layer1(x)
    f1 = m.layer2(f0)
    f2 = m.layer3(f1)
    return [f0, f1, f2]


def used_keys(model):
    return [k for k in model.state_dict().keys()
            if not k.startswith(("layer4.", "fc.")) and not k.endswith("num_batches_tracked")]


def random_weights(model, seed):
    sd = model.state_dict()
    out = {}
    pos = 0
    for k in used_keys(model):
        shape = tuple(sd[k].shape)
        n = int(np.prod(shape))
        u = uniform(seed, pos, n)
        pos += n
        if k.endswith("running_var") or (len(shape) == 1 and k.endswith(".weight")):
            v = u + np.float32(0.5)
        elif k.endswith(("bias", "running_mean")):
            v = np.float32(0.2) * u - np.float32(0.1)
        else:
            fan_in = shape[1] * shape[2] * shape[3]
            a = np.float32(math.sqrt(6.0 / fan_in))
            v = (np.float32(2.0) * u - np.float32(1.0)) * a
        out[k] = v.astype(np.float32).reshape(shape)
    return out


def check_missing(result, what):
    bad = [k for k in result.missing_keys if not k.startswith(("layer4.", "fc."))]
    if bad:
        raise SystemExit(f"{what}: missing {bad[:5]}")


def run(model, x):
    model.eval()
    with torch.no_grad():
        return [f.contiguous() for f in to_layer3(model, x)]


def real_case(shared):
    weights = os.path.join(shared, "weights", "resnet18-in1k-to-layer3.safetensors")
    image = os.path.join(shared, "samples", "bottle_good_000.png")
    tensors, _ = st_io.load(weights)
    model = torchvision.models.resnet18()
    check_missing(model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False),
                  weights)
    img = F.to_tensor(Image.open(image).convert("RGB"))
    img = F.resize(img, [256, 256], antialias=True)
    x = F.normalize(img, MEAN, STD).unsqueeze(0).contiguous()
    feats = run(model, x)
    out = {"input": x}
    for i, f in enumerate(feats):
        out[f"features.{i}"] = f
    path = os.path.join(GOLDEN, "backbone_resnet18_real.safetensors")
    st_io.save(path, out, {"weights": "resnet18-in1k-to-layer3.safetensors", "image": "bottle_good_000.png",
                           "size": "256"})
    print(path, [tuple(f.shape) for f in feats], [float(f.abs().max()) for f in feats])


def random_case(arch, seed, input_seed, batch, size):
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)()
    w = random_weights(model, seed)
    check_missing(model.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=False), arch)
    x = (np.float32(4.0) * uniform(input_seed, 0, batch * 3 * size * size) - np.float32(2.0))
    x = torch.from_numpy(x.reshape(batch, 3, size, size))
    feats = run(model, x)
    keys = list(w.keys())
    out = {"input": x, "check.first": w[keys[0]].reshape(-1)[:8], "check.last": w[keys[-1]].reshape(-1)[-8:]}
    for i, f in enumerate(feats):
        out[f"features.{i}"] = f
    path = os.path.join(GOLDEN, f"backbone_{arch}_random.safetensors")
    st_io.save(path, out, {"arch": arch, "seed": str(seed), "input_seed": str(input_seed), "batch": str(batch),
                           "size": str(size)})
    print(path, [tuple(f.shape) for f in feats], [float(f.abs().max()) for f in feats],
          "last tensor", keys[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                                     "shared"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    real_case(args.shared)
    for case in RANDOM_CASES:
        random_case(*case)


if __name__ == "__main__":
    main()
