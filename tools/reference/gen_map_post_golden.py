"""Golden file for the scorer's map post-processing (tests/test_map_post.c):
Gaussian smoothing as anomalib's AnomalyMapGenerator applies it (kornia
GaussianBlur2d, border_type "reflect", written here with torch only, since
Debian has no kornia) and the bilinear resize of torch's F.interpolate
(align_corners=False, no antialiasing). Regenerate with:

    /usr/bin/python3 tools/reference/gen_map_post_golden.py

(from the repository root). Writes tests/golden/map_post.safetensors:
  map                F32 [20, 24]  seeded input map (values in [-1, 0])
  blur_s{S}          F32 [20, 24]  the map smoothed with sigma S (S in 1.5, 2.0, 0.7)
  resize_{H}x{W}     F32 [H, W]    the map resized to H x W
  kernel_s{S}        F32 [k]       the normalised 1-D kernel
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

SIGMAS = [1.5, 2.0, 0.7]
SIZES = [(45, 37), (7, 11), (20, 24), (64, 50)]


def kernel_size(sigma):
    # anomalib: kernel_size = 2 * int(4.0 * sigma + 0.5) + 1
    return 2 * int(4.0 * sigma + 0.5) + 1


def gaussian(k, sigma):
    # kornia.filters.get_gaussian_kernel1d: x = arange(k) - k // 2, exp(-x^2 / (2 sigma^2)), normalised
    x = torch.arange(k, dtype=torch.float64) - k // 2
    g = torch.exp(-x.pow(2.0) / (2.0 * sigma ** 2))
    return (g / g.sum()).float()


def blur(m, sigma):
    # kornia GaussianBlur2d(separable): filter2d along x, then along y, each
    # on its input padded with F.pad(mode="reflect")
    k = kernel_size(sigma)
    g = gaussian(k, sigma)
    r = k // 2
    x = m[None, None]
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), g.view(1, 1, 1, k))
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), g.view(1, 1, k, 1))
    return x[0, 0], g


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    gen = torch.Generator().manual_seed(1234)
    m = -torch.rand(20, 24, generator=gen, dtype=torch.float32)
    m[5:9, 10:15] = -0.05  # a bright "defect" so the blur has an edge to spread
    out = {"map": m}
    for s in SIGMAS:
        b, g = blur(m, s)
        out["blur_s%g" % s] = b
        out["kernel_s%g" % s] = g
    for h, w in SIZES:
        out["resize_%dx%d" % (h, w)] = F.interpolate(m[None, None], size=(h, w), mode="bilinear",
                                                     align_corners=False)[0, 0]
    path = os.path.join(root, "tests", "golden", "map_post.safetensors")
    st_io.save(path, out, {"sigmas": ",".join("%g" % s for s in SIGMAS),
                           "sizes": ",".join("%dx%d" % hw for hw in SIZES)})
    print("wrote", path)


if __name__ == "__main__":
    main()
