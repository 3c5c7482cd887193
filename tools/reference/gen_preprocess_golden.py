"""Golden files for ff_image_decode_* and ff_image_preprocess.

Run from the repository root:
    /usr/bin/python3 tools/reference/gen_preprocess_golden.py [--shared ../shared]

For each case a sample image from <shared>/samples is decoded with PIL
(converted to RGB: grey replicated), turned into a float tensor exactly as
anomalib does (to_tensor: uint8 / 255), resized with torchvision 0.14's
F.resize(antialias=True) (bilinear, align_corners=False, which runs
PyTorch's _upsample_bilinear2d_aa on the float tensor), then normalised with
the ImageNet mean and std. Writes tests/golden/preprocess_<case>.safetensors:
  output    F32 [3, H, W]   the pre-processed tensor
  rows      U8  [3, w, 3]   decoded RGB rows 0, h//2 and h-1 (PIL's decode)
  checksum  I64 [2]         sum(v) and sum(v * (i % 251 + 1)) over the flat
                            decoded RGB bytes (i = byte index)
  metadata: image (file name under samples/), width, height (decoded size),
            out_width, out_height.
The sample images themselves are never copied; the C test reads them from
the shared folder at test time (suite 'slow').

A synthetic case that needs no shared folder (suite 'fast') goes to
tests/golden/preprocess_synthetic.safetensors: a deterministic 61x47 RGB
pattern `input` U8 [47, 61, 3] and its pre-processed tensors `<case>` F32
[3, H, W] for the sizes in SYNTHETIC, with metadata `<case>` = "HxW".
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# (case name, sample file, out_height, out_width). Sizes cover the model's
# 256 (downscale 900 -> 256), other model sizes, non-square outputs, a grey
# PNG and a grey JPEG, and upscaling (219x264 -> 240x288). Total < 3 MB.
CASES = [
    ("bottle_good_256", "bottle_good_000.png", 256, 256),
    ("bottle_broken_224", "bottle_broken_large_000.png", 224, 224),
    ("mask_64x384", "bottle_broken_large_000_mask.png", 64, 384),
    ("tile_png_up_288x240", "magnetic_tile_crack_exp1_num_249594.png", 288, 240),
    ("tile_jpg_100x80", "magnetic_tile_crack_original.jpg", 100, 80),
]


# (case, out_height, out_width) for the synthetic 61x47 image: downscale by
# non-integer factors, upscale, one axis up and one down, one axis unchanged,
# a factor above 4 (more than 8 taps) and 1x1.
SYNTHETIC = [
    ("down_20x16", 20, 16),
    ("up_80x70", 80, 70),
    ("mixed_30x100", 30, 100),
    ("same_height_47x25", 47, 25),
    ("same_width_19x61", 19, 61),
    ("big_factor_9x5", 9, 5),
    ("one_1x1", 1, 1),
]


def synthetic_image():
    y, x, c = np.meshgrid(np.arange(47), np.arange(61), np.arange(3), indexing="ij")
    return ((x * 37 + y * 91 + c * 53 + (x * y) % 17 * 11) & 255).astype(np.uint8)


def preprocess(rgb, oh, ow):
    x = F.to_tensor(rgb)  # [3, h, w] float32 = uint8 / 255
    x = F.resize(x, [oh, ow], interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    return F.normalize(x, MEAN, STD).contiguous()


def checksum(rgb):
    flat = rgb.reshape(-1).astype(np.int64)
    weights = np.arange(flat.size, dtype=np.int64) % 251 + 1
    return np.array([flat.sum(), (flat * weights).sum()], dtype=np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join("..", "shared"))
    ap.add_argument("--out", default=os.path.join("tests", "golden"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    print("torch", torch.__version__, "torchvision", torchvision.__version__)
    total = 0
    for name, image, oh, ow in CASES:
        path = os.path.join(args.shared, "samples", image)
        with Image.open(path) as im:
            rgb_img = im.convert("RGB")
        rgb = np.array(rgb_img, dtype=np.uint8)
        h, w = rgb.shape[:2]
        x = preprocess(rgb, oh, ow)
        rows = np.stack([rgb[0], rgb[h // 2], rgb[h - 1]])
        out = os.path.join(args.out, f"preprocess_{name}.safetensors")
        st_io.save(out, {"output": x.contiguous(), "rows": rows, "checksum": checksum(rgb)},
                   {"image": image, "width": w, "height": h, "out_width": ow, "out_height": oh})
        size = os.path.getsize(out)
        total += size
        print(f"{out}: {image} {w}x{h} -> {ow}x{oh}, {size} bytes")
    img = synthetic_image()
    tensors = {"input": img}
    meta = {}
    for name, oh, ow in SYNTHETIC:
        tensors[name] = preprocess(img, oh, ow)
        meta[name] = f"{oh}x{ow}"
    out = os.path.join(args.out, "preprocess_synthetic.safetensors")
    st_io.save(out, tensors, meta)
    total += os.path.getsize(out)
    print(f"{out}: {len(SYNTHETIC)} cases, {os.path.getsize(out)} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
