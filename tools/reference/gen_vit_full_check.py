"""Full-size reference check for the transformer backbones (not stored:
hundreds of MB). Writes, for each architecture, a safetensors file with
seeded random weights under timm's names plus golden.input [1, 3, S, S] and
golden.features [1, D, S/16, S/16] from tools/reference/vit_ref.py:

    /usr/bin/python3 tools/reference/gen_vit_full_check.py OUT_DIR [ARCH...]

then tests/test_vit_full.c compares the C backbone with them when run with
FF_VIT_FULL_REF_DIR=OUT_DIR (slow suite; without it only shapes are checked).
Default architectures: deit_base_distilled_patch16_384, cait_m48_448,
deit_small_distilled_patch16_224, cait_s24_224 (about 3 minutes on 2 cores).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402
from vit_ref import CONFIGS, ViTFeatures, randomize_  # noqa: E402

DEFAULT = ["deit_base_distilled_patch16_384", "cait_m48_448", "deit_small_distilled_patch16_224", "cait_s24_224"]


def main():
    out = sys.argv[1]
    names = sys.argv[2:] or DEFAULT
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    for name in names:
        model = ViTFeatures.from_config(name).eval()
        randomize_(model, 5)
        if CONFIGS[name][0] == "cait":
            # smaller LayerScale keeps 41 residual blocks in a realistic range
            with torch.no_grad():
                for b in model.blocks:
                    b.gamma_1.mul_(0.3)
                    b.gamma_2.mul_(0.3)
        side = CONFIGS[name][6]
        x = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            feats = model(x)
        tensors = dict(model.state_dict())
        tensors["golden.input"] = x
        tensors["golden.features"] = feats
        st_io.save(os.path.join(out, name + ".safetensors"), tensors, {"arch": name})
        print(name, tuple(feats.shape), "max|f| %.4g" % float(feats.abs().max()))


if __name__ == "__main__":
    main()
