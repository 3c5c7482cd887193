"""Golden files for the transformer backbones (lib/backbone/vit_*).

Run from the repository root:
    /usr/bin/python3 tools/reference/gen_vit_golden.py

For each family, a reduced configuration that the C library knows under the
same name (lib/backbone/vit_arch.c):
  deit_tiny_test: embed 64, 3 blocks (all used), 4 heads, mlp 4x, patch 16,
                  input 64 (4x4 patches + cls + dist tokens)
  cait_tiny_test: embed 64, 3 blocks (all used), 4 heads, mlp 4x, patch 16,
                  input 64 (talking heads, LayerScale)
with seeded random weights (vit_ref.randomize_) on a random batch of 2.
tests/golden/vit_<family>_tiny.safetensors holds, under timm's names:
  <all weights>     F32, as timm's state dict names them, plus tensors a
                    real file has but the features never use (head.weight,
                    an extra block, for DeiT; head and cls_attn_blocks for
                    CaiT) which the loader must ignore
  golden.input      F32 [2, 3, 64, 64]
  golden.features   F32 [2, 64, 4, 4]
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from vit_ref import ViTFeatures, randomize_  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden")


def make(family, seed):
    dim, heads, depth, patch, img = 64, 4, 3, 16, 64
    model = ViTFeatures(family, dim, heads, 4.0, patch, img, depth).eval()
    randomize_(model, seed)
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn(2, 3, img, img, generator=g)
    with torch.no_grad():
        feats = model(x)
    assert feats.shape == (2, dim, img // patch, img // patch)
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    extra = torch.Generator().manual_seed(seed + 2000)
    tensors["head.weight"] = torch.randn(10, dim, generator=extra)
    tensors["head.bias"] = torch.randn(10, generator=extra)
    if family == "deit":
        tensors["head_dist.weight"] = torch.randn(10, dim, generator=extra)
        tensors["blocks.%d.norm1.weight" % depth] = torch.full((dim,), float("nan"))
    else:
        tensors["cls_token"] = torch.randn(1, 1, dim, generator=extra)
        tensors["blocks_token_only.0.norm1.weight"] = torch.full((dim,), float("nan"))
    tensors["golden.input"] = x
    tensors["golden.features"] = feats
    path = os.path.join(OUT, "vit_%s_tiny.safetensors" % family)
    st_io.save(path, tensors, {"arch": "%s_tiny_test" % family, "seed": str(seed)})
    print("%s: %d tensors, features max|.| %.4g, %d bytes" % (
        path, len(tensors), float(feats.abs().max()), os.path.getsize(path)))


if __name__ == "__main__":
    torch.set_num_threads(1)
    make("deit", 61)
    make("cait", 62)
