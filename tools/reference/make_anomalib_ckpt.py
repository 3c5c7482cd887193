"""An anomalib-layout FastFlow checkpoint and its reference anomaly maps, for
testing tools/anomalib_to_fastflow.py.

    /usr/bin/python3 tools/reference/make_anomalib_ckpt.py --out-dir DIR     (test files, not committed)
    /usr/bin/python3 tools/reference/make_anomalib_ckpt.py --golden          (regenerates the committed golden)

The model is anomalib's FastflowModel module for module: `feature_extractor`
(torchvision's resnet18 cut after layer3, as timm's features_only model with
out_indices 1..3 names it), `norms` and `fast_flow_blocks` from
fastflow_ref.py (anomalib's names, dense one-hot w_perm and w_perm_inv as
FrEIA stores them). Small configuration: input 64x64, 4 flow steps,
alternating 3x3/1x1 kernels (conv3x3_only false, anomalib's default),
hidden_ratio 0.16.

The backbone's weights come from the deterministic splitmix64 generator of
gen_backbone_golden.py (seed BACKBONE_SEED), which tests/backbone_testlib.c
reproduces in C, so the committed golden needs no 11 MB backbone; the flow's
parameters are torch-seeded and perturbed off their initial values as in
gen_flow_golden.py.

Files in DIR:
  fastflow.ckpt            Lightning layout: {"state_dict": {"model.<name>": ..., "image_threshold.value": ...,
                           "pixel_threshold.value", "normalization_metrics.min"/".max"},
                           "hyper_parameters": {input_size, backbone, pre_trained, flow_steps, conv3x3_only,
                           hidden_ratio}, "pytorch-lightning_version", "epoch", "global_step"}
  state_dict.pt            the bare FastflowModel state dict (no prefix, no hyper-parameters)
  state_dict.safetensors   the Lightning state dict as safetensors (prefix "model.", dense w_perm)
  not_fastflow.ckpt        a Lightning checkpoint of another model (PaDiM-like names)
  missing_tensor.ckpt      fastflow.ckpt without model.fast_flow_blocks.1.module_list.2.subnet.4.bias
  omegaconf_hparams.ckpt   fastflow.ckpt with anomalib 0.x's hyper-parameters: the whole config pickled as
                           omegaconf's DictConfig (loads without omegaconf), hidden_ratio 0.157 in it
  reference.safetensors    the reference (below)

--golden writes tests/golden/anomalib_resnet18_ref.safetensors (the reference)
and tests/golden/anomalib_resnet18_model.safetensors (fastflow.ckpt through
the converter with --no-backbone):
  images       U8  [N, 64, 64, 3]  RGB test images
  maps         F32 [N, 64, 64]     anomaly maps of the PyTorch model on them (anomalib's pre-processing)
  scores       F32 [N]             image scores (map maxima)
  check.first  F32 [8]             first 8 backbone weights (conv1.weight)
  check.last   F32 [8]             last 8 (layer3.1.bn2.running_var), pinning the generator
  metadata: backbone, backbone_seed, the statistics stored in the checkpoint."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as TF
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fastflow_ref as ref  # noqa: E402
import gen_backbone_golden as bbg  # noqa: E402
import gen_flow_golden as fg  # noqa: E402
import st_io  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden")
BACKBONE = "resnet18"
BACKBONE_SEED = 18018
FLOW_SEED = 4
INPUT = (64, 64)
STEPS = 4
CONV3X3_ONLY = False
HIDDEN_RATIO = 0.16
N_IMAGES = 2
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class FastflowModel(nn.Module):
    """anomalib's FastflowModel (ResNet branch) with the reference flow."""

    def __init__(self):
        super().__init__()
        fe = getattr(torchvision.models, BACKBONE)()
        del fe.layer4, fe.fc  # timm's features_only model ends at the last feature stage
        self.feature_extractor = fe
        shapes = [(c, INPUT[0] // s, INPUT[1] // s) for c, s in zip((64, 128, 256), (4, 8, 16))]
        rng = np.random.RandomState(FLOW_SEED)
        perms = [[rng.permutation(c) for _ in range(STEPS)] for c, _, _ in shapes]
        flow = ref.FastFlowRef(shapes, INPUT, STEPS, CONV3X3_ONLY, HIDDEN_RATIO, perms=perms)
        self.norms = flow.norms
        self.fast_flow_blocks = flow.fast_flow_blocks
        self._flow = [flow]  # for anomaly_map, kept out of the state dict

    def features(self, x):
        m = self.feature_extractor
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        f0 = m.layer1(x)
        f1 = m.layer2(f0)
        return [f0, f1, m.layer3(f1)]

    def forward(self, x):
        zs, _, _ = self._flow[0](self.features(x))
        return self._flow[0].anomaly_map(zs)


def build():
    torch.manual_seed(FLOW_SEED)
    model = FastflowModel()
    w = bbg.random_weights(model.feature_extractor, BACKBONE_SEED)
    res = model.feature_extractor.load_state_dict({k: torch.from_numpy(v) for k, v in w.items()}, strict=False)
    bad = [k for k in res.missing_keys if not k.endswith("num_batches_tracked")]
    if bad or res.unexpected_keys:
        raise SystemExit(f"backbone weights do not fit: missing {bad[:3]}, unexpected {res.unexpected_keys[:3]}")
    gen = torch.Generator().manual_seed(FLOW_SEED)
    fg.perturb(model._flow[0], gen)
    model.eval()
    keys = list(w.keys())
    return model, w[keys[0]].reshape(-1)[:8], w[keys[-1]].reshape(-1)[-8:]


def images():
    """Textured surfaces; the second has a dark spot and a bright scratch."""
    rng = np.random.RandomState(64)
    yy, xx = np.mgrid[0:INPUT[0], 0:INPUT[1]].astype(np.float64)
    out = []
    for i in range(N_IMAGES):
        base = np.array([150.0, 120.0, 90.0])[None, None, :] + 25.0 * np.sin(xx / 5.0 + i)[..., None] \
            + 15.0 * np.cos(yy / 7.0)[..., None] + rng.normal(0.0, 6.0, (INPUT[0], INPUT[1], 3))
        if i == 1:
            base[np.hypot(yy - 40, xx - 22) < 6] -= 90.0
            base[(np.abs(yy - xx * 0.5 - 8) < 1.2) & (xx > 30)] += 80.0
        out.append(np.clip(np.rint(base), 0, 255).astype(np.uint8))
    return np.stack(out)


def reference_maps(model, imgs):
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255.0  # to_tensor
    x = TF.resize(x, list(INPUT), antialias=True)
    x = TF.normalize(x, MEAN, STD)
    with torch.no_grad():
        maps = model(x.contiguous())
    return maps.contiguous(), maps.amax(dim=(1, 2)).contiguous()


def stats(maps, scores):
    s = scores.numpy()
    return {"image_threshold.value": float((s[0] + s[1]) / 2), "pixel_threshold.value": float(np.quantile(maps, 0.9)),
            "normalization_metrics.min": float(maps.min()), "normalization_metrics.max": float(maps.max())}


def lightning(model, st):
    sd = {"model." + k: v.detach().clone() for k, v in model.state_dict().items()}
    for k, v in st.items():
        sd[k] = torch.tensor(v, dtype=torch.float32)
    return {"epoch": 3, "global_step": 12, "pytorch-lightning_version": "1.9.5", "state_dict": sd,
            "hyper_parameters": {"input_size": list(INPUT), "backbone": BACKBONE, "pre_trained": True,
                                 "flow_steps": STEPS, "conv3x3_only": CONV3X3_ONLY, "hidden_ratio": HIDDEN_RATIO},
            "optimizer_states": [], "lr_schedulers": [], "callbacks": {}, "loops": {}}


def omegaconf_like(tree):
    """anomalib 0.x saves its whole config as an omegaconf DictConfig. Objects
    pickled exactly as DictConfig / AnyNode are (same module and class names,
    state in _content / _val), without needing omegaconf here or when
    converting."""
    import types
    mods = {}
    sys.modules.setdefault("omegaconf", types.ModuleType("omegaconf"))
    for name, cls_name in (("omegaconf.dictconfig", "DictConfig"), ("omegaconf.nodes", "AnyNode")):
        mod = sys.modules.get(name) or types.ModuleType(name)
        if not hasattr(mod, cls_name):
            setattr(mod, cls_name, type(cls_name, (), {"__module__": name,
                                                       "__getstate__": lambda self: self.__dict__}))
        sys.modules.setdefault(name, mod)
        mods[cls_name] = getattr(mod, cls_name)

    def node(v):
        if isinstance(v, dict):
            d = mods["DictConfig"]()
            d.__dict__.update({"_metadata": None, "_parent": None, "_content": {k: node(x) for k, x in v.items()}})
            return d
        n = mods["AnyNode"]()
        n.__dict__.update({"_metadata": None, "_parent": None, "_val": v})
        return n
    return node(tree)


def write(out_dir):
    model, first, last = build()
    imgs = images()
    maps, scores = reference_maps(model, imgs)
    st = stats(maps, scores)
    ckpt = lightning(model, st)
    torch.save(ckpt, os.path.join(out_dir, "fastflow.ckpt"))
    torch.save(model.state_dict(), os.path.join(out_dir, "state_dict.pt"))
    st_io.save(os.path.join(out_dir, "state_dict.safetensors"), ckpt["state_dict"])
    other = {"state_dict": {"model.feature_extractor.conv1.weight": torch.zeros(4, 3, 3, 3),
                            "model.gaussian.mean": torch.zeros(10, 16), "model.gaussian.inv_covariance":
                            torch.zeros(16, 10, 10)}, "hyper_parameters": {"backbone": "resnet18"}}
    torch.save(other, os.path.join(out_dir, "not_fastflow.ckpt"))
    broken = dict(ckpt, state_dict=dict(ckpt["state_dict"]))
    del broken["state_dict"]["model.fast_flow_blocks.1.module_list.2.subnet.4.bias"]
    torch.save(broken, os.path.join(out_dir, "missing_tensor.ckpt"))
    # anomalib 0.x: hyper_parameters is the whole config as a DictConfig;
    # hidden_ratio 0.157 (which gives the same widths) shows it was read
    cfg = {"dataset": {"name": "synthetic", "image_size": list(INPUT)},
           "model": {"name": "fastflow", "backbone": BACKBONE, "pre_trained": True, "flow_steps": STEPS,
                     "conv3x3_only": CONV3X3_ONLY, "hidden_ratio": 0.157}}
    torch.save(dict(ckpt, hyper_parameters=omegaconf_like(cfg)), os.path.join(out_dir, "omegaconf_hparams.ckpt"))
    meta = {"backbone": BACKBONE, "backbone_seed": str(BACKBONE_SEED), "input_height": str(INPUT[0]),
            "input_width": str(INPUT[1])}
    meta.update({"anomalib." + k: str(np.float32(v)) for k, v in st.items()})
    ref_path = os.path.join(out_dir, "reference.safetensors")
    st_io.save(ref_path, {"images": imgs, "maps": maps, "scores": scores, "check.first": first,
                          "check.last": last}, meta)
    print(out_dir, "maps", tuple(maps.shape), "range", float(maps.min()), float(maps.max()), "scores",
          scores.tolist())
    return ref_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", help="write the checkpoints and the reference here")
    ap.add_argument("--golden", action="store_true", help="regenerate the committed golden files")
    args = ap.parse_args()
    if not args.out_dir and not args.golden:
        ap.error("give --out-dir DIR and/or --golden")
    torch.set_num_threads(2)
    out_dir = args.out_dir or tempfile.mkdtemp(prefix="anomalib_ckpt.")
    os.makedirs(out_dir, exist_ok=True)
    ref_path = write(out_dir)
    if args.golden:
        shutil.copyfile(ref_path, os.path.join(GOLDEN, "anomalib_resnet18_ref.safetensors"))
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "anomalib_to_fastflow.py"),
                        os.path.join(out_dir, "fastflow.ckpt"),
                        os.path.join(GOLDEN, "anomalib_resnet18_model.safetensors"), "--no-backbone"], check=True)
        if not args.out_dir:
            shutil.rmtree(out_dir)


if __name__ == "__main__":
    main()
