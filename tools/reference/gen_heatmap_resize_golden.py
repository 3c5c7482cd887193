"""Golden file for the heatmap's picture resize (tests/test_resample.c):
PIL's Image.resize(..., Image.BILINEAR) of a seeded RGB picture, which
ff_heatmap_render reproduces (with alpha 0 its output is the resized
picture) through ff_aa_filter_init_pil. PIL resizes 8-bit pictures in fixed
point, the library in float, so values may differ by 1. Regenerate with:

    /usr/bin/python3 tools/reference/gen_heatmap_resize_golden.py

(from the repository root). Writes tests/golden/heatmap_resize.safetensors:
  picture        U8 [29, 37, 3]  seeded RGB picture
  resized_{W}x{H} U8 [H, W, 3]   PIL's BILINEAR resize to W x H
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

SIZES = [(16, 12), (64, 50), (50, 20), (37, 29), (9, 40)]


def main():
    rng = np.random.default_rng(11)
    pic = rng.integers(0, 256, size=(29, 37, 3), dtype=np.uint8)
    # smooth structure as well as noise, so shrinking has something to keep
    yy, xx = np.mgrid[0:29, 0:37]
    pic[..., 0] = np.clip(pic[..., 0] // 4 + (xx * 5), 0, 255).astype(np.uint8)
    img = Image.fromarray(pic, "RGB")
    tensors = {"picture": pic}
    for w, h in SIZES:
        tensors["resized_%dx%d" % (w, h)] = np.asarray(img.resize((w, h), Image.BILINEAR), dtype=np.uint8)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden",
                       "heatmap_resize.safetensors")
    st_io.save(os.path.normpath(out), tensors, {"generator": "tools/reference/gen_heatmap_resize_golden.py",
                                                "PIL": Image.__version__})
    print("wrote", os.path.normpath(out))


if __name__ == "__main__":
    main()
