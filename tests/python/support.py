"""Shared helpers of the Python binding tests and the example tests.

Random resnet18 weights written with fastflow.safetensors (names and shapes
as torchvision's state dict, which lib/backbone/resnet_arch.c expects),
small synthetic images, and .npy reading. Everything is deterministic and
pure Python, so the tests run the same with and without numpy."""

import array
import ast
import math
import os
import random
import struct
import sys

import fastflow
from fastflow import safetensors


def resnet_convs(arch="resnet18"):
    """(conv name, bn name, out channels, in channels, kernel) in torchvision order,
    up to layer3 (the backbone ignores layer4 and fc)."""
    blocks = {"resnet18": (2, 2, 2), "resnet34": (3, 4, 6)}[arch]
    convs = [("conv1", "bn1", 64, 3, 7)]
    inplanes = 64
    for level, count in enumerate(blocks):
        planes = 64 << level
        for m in range(count):
            p = "layer%d.%d." % (level + 1, m)
            stride = 2 if (m == 0 and level > 0) else 1
            convs.append((p + "conv1", p + "bn1", planes, inplanes, 3))
            convs.append((p + "conv2", p + "bn2", planes, planes, 3))
            if stride != 1 or inplanes != planes:
                convs.append((p + "downsample.0", p + "downsample.1", planes, inplanes, 1))
            inplanes = planes
    return convs


def random_backbone_tensors(seed=0, arch="resnet18", prefix=""):
    """{name: Tensor} of a randomly initialised ResNet (He-uniform convs,
    BatchNorm statistics near identity), as a torchvision checkpoint names them."""
    rng = random.Random(seed)
    r = rng.random
    out = {}
    for conv, bn, oc, ic, k in resnet_convs(arch):
        bound = math.sqrt(6.0 / (ic * k * k))
        n = oc * ic * k * k
        out[prefix + conv + ".weight"] = safetensors.tensor(
            array.array("f", [(2.0 * r() - 1.0) * bound for _ in range(n)]), (oc, ic, k, k))
        out[prefix + bn + ".weight"] = safetensors.tensor([r() + 0.5 for _ in range(oc)], (oc,))
        out[prefix + bn + ".bias"] = safetensors.tensor([0.2 * r() - 0.1 for _ in range(oc)], (oc,))
        out[prefix + bn + ".running_mean"] = safetensors.tensor([0.2 * r() - 0.1 for _ in range(oc)], (oc,))
        out[prefix + bn + ".running_var"] = safetensors.tensor([r() + 0.5 for _ in range(oc)], (oc,))
        out[prefix + bn + ".num_batches_tracked"] = safetensors.tensor([0], (), "I64")
    return out


def write_random_backbone(path, seed=0):
    """Writes random resnet18 weights to path (cached: skipped when present)."""
    if not os.path.exists(path):
        safetensors.save(path, random_backbone_tensors(seed))
    return path


def synthetic_image(seed, width, height, defect=False):
    """A deterministic RGB8 picture as bytes (packed rows): a smooth texture
    plus noise, with a bright square when defect is set."""
    rng = random.Random(seed)
    fx, fy, ph = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0, 6.28)
    px = bytearray(width * height * 3)
    i = 0
    for y in range(height):
        for x in range(width):
            base = 110 + 40 * math.sin(fx * x + ph) * math.cos(fy * y)
            for c in range(3):
                v = base + 12 * c + rng.randint(-8, 8)
                px[i] = max(0, min(255, int(v)))
                i += 1
    if defect:
        s = max(4, width // 6)
        x0, y0 = width // 3, height // 2
        for y in range(y0, min(height, y0 + s)):
            for x in range(x0, min(width, x0 + s)):
                j = (y * width + x) * 3
                px[j:j + 3] = b"\xf5\xf0\x20"
    return bytes(px)


def synthetic_image_obj(seed, width, height, defect=False):
    return fastflow.Image(synthetic_image(seed, width, height, defect), width, height, fastflow.RGB8)


def write_image_folder(folder, count, size, seed=0, defect=False):
    """Writes count synthetic PNGs into folder; returns their paths."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        p = os.path.join(folder, "%03d.png" % i)
        fastflow.image.write_png(p, synthetic_image_obj(seed * 1000 + i, size, size, defect))
        paths.append(p)
    return paths


def read_npy(path):
    """(shape, flat array.array('f')) of a little-endian float32 C-order .npy."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError("%s is not a .npy file" % path)
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", data, 8)
        start = 10
    else:
        (hlen,) = struct.unpack_from("<I", data, 8)
        start = 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin-1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        raise ValueError("%s: expected little-endian float32 C order, got %r" % (path, header))
    values = array.array("f")
    values.frombytes(data[start + hlen:])
    if sys.byteorder != "little":
        values.byteswap()
    return tuple(header["shape"]), values


def flat(values):
    """A flat list of floats from a numpy array, memoryview or sequence."""
    if hasattr(values, "ravel"):
        return [float(v) for v in values.ravel()]
    if isinstance(values, memoryview):
        return [float(v) for v in values.cast("B").cast(values.format)] if values.ndim > 1 else list(values)
    return [float(v) for v in values]


def tmp_root():
    """The folder tests write to: $FF_TEST_TMPDIR, else the system's."""
    import tempfile
    root = os.environ.get("FF_TEST_TMPDIR") or tempfile.gettempdir()
    os.makedirs(root, exist_ok=True)
    return root


def shared_dir():
    """../shared (or $FF_SHARED_DIR) when present, else None."""
    d = os.environ.get("FF_SHARED_DIR")
    if not d:
        src = os.environ.get("FF_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
        d = os.path.join(src, "..", "shared")
    return d if os.path.isdir(d) else None
