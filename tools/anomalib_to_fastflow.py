#!/usr/bin/python3
"""Converts an anomalib FastFlow model into a libfastflow model file.

    /usr/bin/python3 tools/anomalib_to_fastflow.py MODEL.ckpt OUT.safetensors [options]

Input: an anomalib Lightning checkpoint (.ckpt: state_dict keys "model.<name>",
hyper-parameters beside them), a plain FastflowModel state dict saved with
torch.save (.pt/.pth), or a safetensors state dict. Reading .ckpt/.pt needs
PyTorch (the file is a pickle: convert only checkpoints you trust); a
safetensors input needs only numpy.

Output: docs/model-format.md (tensor names are anomalib's FastflowModel names,
w_perm as I64 indices). What the checkpoint does not state is inferred from
the tensors; docs/anomalib-import.md lists the rules, the name
correspondence and the metadata kept from anomalib's score normalisation.

Exit status: 0 on success, 1 on any conversion error (message on stderr),
2 on a usage error."""
import argparse
import math
import os
import pickle
import re
import sys
import tempfile
import types

try:
    import numpy as np
except ImportError:  # pragma: no cover - Debian installs python3-numpy
    sys.exit("anomalib_to_fastflow: error: numpy is required (apt-get install python3-numpy)")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference"))
import st_io  # noqa: E402

PROG = "anomalib_to_fastflow"
FORMAT_VERSION = "1"
# anomalib's ResNet backbones through timm features_only (out_indices 1..3):
# per-level channels and the number of blocks per stage up to layer3.
RESNETS = {
    "resnet18": ((64, 128, 256), (2, 2, 2), False, 64),
    "resnet34": ((64, 128, 256), (3, 4, 6), False, 64),
    "resnet50": ((256, 512, 1024), (3, 4, 6), True, 64),
    "wide_resnet50_2": ((256, 512, 1024), (3, 4, 6), True, 128),
}
STRIDES = (4, 8, 16)
# anomalib's transformer backbones (timm, whole model as feature_extractor)
# by (family, embedding width, input side), and the smaller ones libfastflow
# also runs.
VITS = {("deit", 768, 384): "deit_base_distilled_patch16_384", ("cait", 768, 448): "cait_m48_448",
        ("deit", 384, 224): "deit_small_distilled_patch16_224", ("cait", 384, 224): "cait_s24_224"}
VIT_SIDES = {name: key[2] for key, name in VITS.items()}
# Scalars anomalib's AnomalyModule keeps beside the model (thresholds and
# score-normalisation statistics); copied to metadata as "anomalib.<name>".
STAT_PREFIXES = ("image_threshold.", "pixel_threshold.", "normalization_metrics.", "min_max.",
                 "training_distribution.", "post_processor.")


class ConversionError(Exception):
    pass


# ------------------------------------------------------------------ reading --

class _StandIn:
    """Replaces a class the checkpoint names but this Python lacks (omegaconf's
    DictConfig, lightning's AttributeDict, anomalib's enums...), keeping its
    pickled state so hyper-parameters can still be read."""

    # Pickle may create instances without calling __init__ (__newobj__),
    # so every attribute is made on first use.
    def __init__(self, *args, **kwargs):
        self.__dict__["args"] = args

    def _get(self, name, default):
        return self.__dict__.setdefault(name, default)

    def __setstate__(self, state):
        self.__dict__["state"] = state

    def __setitem__(self, key, value):
        self._get("items", {})[key] = value

    def append(self, value):
        self._get("list", []).append(value)

    def extend(self, values):
        self._get("list", []).extend(values)


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_StandIn,), {"__module__": module})


def _lenient_pickle():
    """The pickle module with an Unpickler that tolerates missing classes."""
    mod = types.ModuleType("pickle")
    mod.__dict__.update(pickle.__dict__)
    mod.Unpickler = _LenientUnpickler
    return mod


def plain(obj, depth=0):
    """Hyper-parameter containers (dicts, DictConfig stand-ins) as plain Python."""
    if depth > 20:
        return None
    if isinstance(obj, _StandIn):
        st = obj._get("state", None)
        if isinstance(st, tuple) and len(st) == 2 and isinstance(st[1], dict):
            st = st[1]  # (state, slotstate)
        if isinstance(st, dict):
            d = st.get("__dict__", st)
            if "_content" in d:
                return plain(d["_content"], depth + 1)
            if "_val" in d:
                return plain(d["_val"], depth + 1)
        if obj._get("items", {}):
            return {k: plain(v, depth + 1) for k, v in obj._get("items", {}).items()}
        if obj._get("list", []):
            return [plain(v, depth + 1) for v in obj._get("list", [])]
        if obj._get("args", ()):
            return plain(obj._get("args", ())[0], depth + 1)
        return None
    if isinstance(obj, dict):
        return {k: plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v, depth + 1) for v in obj]
    if hasattr(obj, "keys") and hasattr(obj, "__getitem__") and not hasattr(obj, "shape"):
        try:
            return {k: plain(obj[k], depth + 1) for k in obj.keys()}
        except Exception:  # noqa: BLE001 - best effort on foreign containers
            return None
    return obj


def is_safetensors(path):
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    n = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < n < os.path.getsize(path)


def load_torch(path):
    try:
        import torch
    except ImportError as e:
        raise ConversionError(f"reading '{path}' needs PyTorch (import torch failed: {e}); install python3-torch, "
                              "or save the state dict as safetensors and convert that") from None
    lenient = _lenient_pickle()
    serialization = getattr(torch, "serialization", None)
    saved = getattr(serialization, "pickle", None)
    try:
        # Debian's torch 1.13 replaces pickle_module by its global `pickle`
        # when weights_only is false, so that global is swapped too.
        if saved is not None:
            serialization.pickle = lenient
        try:
            obj = torch.load(path, map_location="cpu", pickle_module=lenient, weights_only=False)
        except TypeError:  # torch < 1.13 has no weights_only
            obj = torch.load(path, map_location="cpu", pickle_module=lenient)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds
        raise ConversionError(f"'{path}' is not a PyTorch checkpoint torch can read ({type(e).__name__}: {e})") \
            from None
    finally:
        if saved is not None:
            serialization.pickle = saved
    hp = {}
    if isinstance(obj, dict) and "state_dict" in obj:
        sd = obj["state_dict"]
        hp = plain(obj.get("hyper_parameters")) or {}
        dm = plain(obj.get("datamodule_hyper_parameters")) or {}
        if isinstance(hp, dict) and isinstance(dm, dict) and dm:
            hp = dict(hp, _datamodule=dm)
    elif hasattr(obj, "state_dict") and callable(obj.state_dict):
        sd = obj.state_dict()
    else:
        sd = obj
    if not isinstance(sd, dict) and not hasattr(sd, "items"):
        raise ConversionError(f"'{path}' holds a {type(obj).__name__}, not a checkpoint or state dict")
    tensors = {}
    for k, v in sd.items():
        if isinstance(v, torch.Tensor):
            t = v.detach().cpu()
            if t.is_floating_point():
                t = t.float()
            tensors[str(k)] = t.contiguous().numpy()
    if not tensors:
        raise ConversionError(f"'{path}' holds no tensors: not a checkpoint or state dict")
    return tensors, hp if isinstance(hp, dict) else {}


def load_input(path):
    if not os.path.isfile(path):
        raise ConversionError(f"cannot open '{path}': no such file")
    if is_safetensors(path):
        try:
            tensors, _ = st_io.load(path)
        except Exception as e:  # noqa: BLE001
            raise ConversionError(f"'{path}' is not a readable safetensors file ({e})") from None
        return {k: (v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in tensors.items()}, {}
    return load_torch(path)


# ------------------------------------------------------- hyper-parameters --

def find_hparam(hp, names):
    """The first of `names` in the hyper-parameters, looked up at the top
    level, under model / model.init_args / init_args (LightningCLI and
    anomalib 0.x configs), then anywhere."""
    scopes = [hp]
    for key in ("model", "init_args"):
        if isinstance(hp.get(key), dict):
            scopes.append(hp[key])
            if isinstance(hp[key].get("init_args"), dict):
                scopes.append(hp[key]["init_args"])
    for scope in scopes:
        for n in names:
            if scope.get(n) is not None:
                return scope[n]
    stack = [hp]
    while stack:
        d = stack.pop()
        for k, v in d.items():
            if k in names and v is not None:
                return v
            if isinstance(v, dict):
                stack.append(v)
    return None


def parse_bool(v, what):
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    raise ConversionError(f"{what} = '{v}' is not true or false")


def parse_size(v, what):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v), int(v)
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return int(v[0]), int(v[1])
    m = re.fullmatch(r"\s*(\d+)\s*(?:[x,]\s*(\d+))?\s*", str(v))
    if not m:
        raise ConversionError(f"{what} = '{v}' is not a size (H, HxW or H,W)")
    h = int(m.group(1))
    return h, int(m.group(2) or h)


# -------------------------------------------------------------- inference --

def fmt_float(x):
    s = repr(float(x))
    return s[:-2] if s.endswith(".0") else s


def ratio_reproduces(r, c1s, hs):
    """int(c1 * r) == h for every level, as anomalib (double) and libfastflow
    (the metadata string read as float32, multiplied in double) compute it."""
    r32 = float(np.float32(r))
    return all(int(c1 * r) == h and int(c1 * r32) == h for c1, h in zip(c1s, hs))


def infer_hidden_ratio(c1s, hs):
    """The shortest decimal r with int(c1 * r) == h at every level."""
    lo = max(h / c1 for c1, h in zip(c1s, hs))
    hi = min((h + 1) / c1 for c1, h in zip(c1s, hs))
    if not lo < hi:
        raise ConversionError("the subnets' hidden channels " + ", ".join(f"{h} (of {c1})" for c1, h in zip(c1s, hs))
                              + " fit no single hidden_ratio")
    for digits in range(1, 10):
        r = math.ceil(lo * 10 ** digits) / 10 ** digits
        r = float(f"{r:.{digits}f}")
        if r < hi and ratio_reproduces(r, c1s, hs):
            return r
    raise ConversionError(f"no hidden_ratio in [{lo}, {hi}) reproduces the hidden channels {hs}")


def infer_resnet(fe):
    """resnet18/34/50/wide_resnet50_2 from the backbone tensors' shapes."""
    if "layer1.0.conv1.weight" not in fe:
        return None
    bottleneck = "layer1.0.conv3.weight" in fe
    blocks = 0
    while f"layer3.{blocks}.conv1.weight" in fe:
        blocks += 1
    if bottleneck:
        return "wide_resnet50_2" if fe["layer1.0.conv1.weight"].shape[0] == 128 else "resnet50"
    return "resnet34" if blocks >= 6 else "resnet18"


def resnet_backbone(m, fe, stated, shape, p):
    """Backbone and input size of a FastFlow over a ResNet (3 levels, LayerNorms)."""
    if m.levels != 3:
        raise ConversionError(f"found {m.levels} flow levels with LayerNorms; a ResNet FastFlow has 3")
    from_tensors = infer_resnet(fe)
    if stated is not None:
        if stated not in RESNETS:
            raise ConversionError(f"backbone '{stated}' is not supported with LayerNorms (ResNets: "
                                  f"{', '.join(RESNETS)})")
        if from_tensors is not None and from_tensors != stated:
            raise ConversionError(f"backbone '{stated}' was given but the checkpoint's backbone weights are "
                                  f"{from_tensors}'s")
    m.backbone = stated or from_tensors
    if m.backbone is None:
        raise ConversionError("the checkpoint names no backbone and holds no backbone weights to infer it from; "
                              "pass --backbone")
    want = RESNETS[m.backbone][0]
    if tuple(m.chans) != want:
        raise ConversionError(f"the flows have {m.chans} channels but {m.backbone} gives {list(want)}")
    # input size from the LayerNorm shapes [C, H/stride, W/stride]
    sizes = []
    for l in range(m.levels):
        s = shape(f"norms.{l}.weight")
        if len(s) != 3 or s[0] != m.chans[l]:
            raise ConversionError(f"tensor '{p}norms.{l}.weight' has shape {list(s)}; expected [{m.chans[l]}, H, W]")
        sizes.append((s[1] * STRIDES[l], s[2] * STRIDES[l]))
    if len(set(sizes)) != 1:
        raise ConversionError(f"the LayerNorm shapes imply different input sizes {sizes}")
    m.in_h, m.in_w = sizes[0]
    m.size_source = "LayerNorm shapes are"


def infer_vit(fe):
    """(family, embed dim, input side) from timm's ViT tensors, or None."""
    pos, proj = fe.get("pos_embed"), fe.get("patch_embed.proj.weight")
    if pos is None or proj is None or pos.ndim != 3 or proj.ndim != 4:
        return None
    family = "deit" if "dist_token" in fe else "cait"
    grid = math.isqrt(pos.shape[1] - (2 if family == "deit" else 0))
    return family, int(pos.shape[2]), grid * int(proj.shape[2])


def vit_backbone(m, fe, stated, args):
    """Backbone and input size of a FastFlow over a vision transformer (one
    level, no LayerNorm: anomalib uses the transformer's own final norm)."""
    if m.levels != 1:
        raise ConversionError(f"found {m.levels} flow levels without LayerNorms ('norms.0.weight'); a ResNet "
                              "FastFlow has LayerNorms, a transformer one has a single level")
    found = infer_vit(fe)
    from_tensors = VITS.get(found) if found else None
    if stated is not None:
        if stated in RESNETS:
            raise ConversionError(f"backbone '{stated}' is a ResNet but the checkpoint has no LayerNorms "
                                  "('norms.*'): a FastFlow over a transformer")
        if from_tensors is not None and from_tensors != stated:
            raise ConversionError(f"backbone '{stated}' was given but the checkpoint's backbone weights are "
                                  f"{from_tensors}'s")
        if found and not stated.startswith(found[0]):
            raise ConversionError(f"backbone '{stated}' was given but the checkpoint's backbone weights are a "
                                  f"{found[0].upper()} model")
    m.backbone = stated or from_tensors
    if m.backbone is None:
        what = f"an unknown {found[0]} ({found[1]} channels, {found[2]}x{found[2]})" if found else "no weights"
        raise ConversionError(f"the checkpoint names no backbone and its transformer backbone is {what}; "
                              "pass --backbone")
    side = found[2] if found else VIT_SIDES.get(m.backbone)
    if side is None:
        if args.input_size is None:
            raise ConversionError(f"the input size of '{m.backbone}' is unknown here; pass --input-size")
        side = parse_size(args.input_size, "--input-size")[0]
    if found and found[1] != m.chans[0]:
        raise ConversionError(f"the flow has {m.chans[0]} channels but the backbone's embedding has {found[1]}")
    m.in_h = m.in_w = side
    m.size_source = "backbone's position embedding is" if found else "backbone's input size is"


class Model:
    pass


def analyse(tensors, hp, args, log):
    m = Model()
    anchor = re.compile(r"^(.*?)fast_flow_blocks\.0\.module_list\.0\.global_scale$")
    prefixes = [mm.group(1) for mm in map(anchor.match, tensors) if mm]
    if not prefixes:
        sample = ", ".join(list(tensors)[:4])
        raise ConversionError(f"not a FastFlow checkpoint: no tensor '[model.]fast_flow_blocks.0.module_list.0."
                              f"global_scale' among its {len(tensors)} tensors ({sample}, ...)")
    p = min(prefixes, key=len)
    sd = {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}
    m.extra = {k: v for k, v in tensors.items() if not k.startswith(p)}

    levels = 0
    while f"fast_flow_blocks.{levels}.module_list.0.global_scale" in sd:
        levels += 1
    steps = []
    for l in range(levels):
        k = 0
        while f"fast_flow_blocks.{l}.module_list.{k}.global_scale" in sd:
            k += 1
        steps.append(k)
    if len(set(steps)) != 1:
        raise ConversionError(f"the feature levels have different numbers of flow steps: {steps}")
    m.levels, m.steps = levels, steps[0]
    m.has_norm = "norms.0.weight" in sd

    def shape(name):
        if name not in sd:
            raise ConversionError(f"missing tensor '{p}{name}'")
        return tuple(sd[name].shape)

    chans = []
    for l in range(levels):
        s = shape(f"fast_flow_blocks.{l}.module_list.0.global_scale")
        if len(s) != 4 or s[0] != 1 or s[2:] != (1, 1):
            raise ConversionError(f"tensor '{p}fast_flow_blocks.{l}.module_list.0.global_scale' has shape "
                                  f"{list(s)}; expected [1, C, 1, 1]")
        chans.append(s[1])
    m.chans = chans

    fe = {k[len("feature_extractor."):]: v for k, v in sd.items() if k.startswith("feature_extractor.")}
    stated = args.backbone or find_hparam(hp, ("backbone", "backbone_name"))
    if stated is not None:
        stated = str(stated).split("/")[-1].split(".")[0]  # "timm/resnet18.tv_in1k" -> "resnet18"
    if m.has_norm:
        resnet_backbone(m, fe, stated, shape, p)
    else:
        vit_backbone(m, fe, stated, args)
    if args.input_size is not None:
        h, w = parse_size(args.input_size, "--input-size")
        if (h, w) != (m.in_h, m.in_w):
            raise ConversionError(f"--input-size is {h}x{w} but the {m.size_source} for {m.in_h}x{m.in_w}")
    stated_size = find_hparam(hp, ("input_size", "image_size"))
    if stated_size is not None:
        try:
            h, w = parse_size(stated_size, "input_size")
        except (ConversionError, TypeError, ValueError):
            h, w = None, None
        if (h, w) != (m.in_h, m.in_w):  # the tensors decide; a data-module size may be a pre-crop size
            log(f"note: hyper-parameter input size {stated_size} differs from {m.in_h}x{m.in_w}, which the "
                f"{m.size_source} for; using the latter")
    if m.in_h % 16 or m.in_w % 16 or not (32 <= m.in_h <= 4096 and 32 <= m.in_w <= 4096):
        raise ConversionError(f"input size {m.in_h}x{m.in_w}: libfastflow needs sides divisible by 16 in [32, 4096]")

    # flow_steps
    for what, v in (("--flow-steps", args.flow_steps), ("hyper-parameter flow_steps", find_hparam(hp, ("flow_steps",)))):
        if v is not None and int(v) != m.steps:
            raise ConversionError(f"{what} is {v} but the checkpoint has {m.steps} flow steps")

    # kernels -> conv3x3_only
    kernels = [shape(f"fast_flow_blocks.0.module_list.{k}.subnet.1.weight")[2:] for k in range(m.steps)]
    even3 = all(kernels[k] == (3, 3) for k in range(0, m.steps, 2))
    odd = {kernels[k] for k in range(1, m.steps, 2)}
    if not even3 or len(odd) > 1 or (odd and odd.pop() not in ((3, 3), (1, 1))):
        raise ConversionError(f"subnet kernels {[k[0] for k in kernels]} follow neither FastFlow pattern "
                              "(all 3x3, or 3x3 and 1x1 alternating)")
    inferred3 = all(k == (3, 3) for k in kernels)
    stated3 = args.conv3x3_only
    if stated3 is None:
        stated3 = find_hparam(hp, ("conv3x3_only",))
    if stated3 is not None:
        stated3 = parse_bool(stated3, "conv3x3_only")
        if m.steps > 1 and stated3 != inferred3:
            raise ConversionError(f"conv3x3_only = {str(stated3).lower()} was given but the odd steps' subnet "
                                  f"kernels are {kernels[1][0]}x{kernels[1][1]}")
        m.conv3x3_only = stated3
    else:
        m.conv3x3_only = inferred3

    # hidden_ratio
    c1s = [c - c // 2 for c in chans]
    hs = [shape(f"fast_flow_blocks.{l}.module_list.0.subnet.1.weight")[0] for l in range(levels)]
    stated_r = args.hidden_ratio if args.hidden_ratio is not None else find_hparam(hp, ("hidden_ratio",))
    if stated_r is not None:
        r = float(stated_r)
        if not ratio_reproduces(r, c1s, hs):
            if args.hidden_ratio is not None:
                raise ConversionError(f"--hidden-ratio {r} gives hidden channels "
                                      f"{[int(c * r) for c in c1s]} but the subnets have {hs}")
            log(f"note: hyper-parameter hidden_ratio {r} does not reproduce the subnets' hidden channels {hs} "
                "(in double and in float32); inferring one that does")
            r = infer_hidden_ratio(c1s, hs)
    else:
        r = infer_hidden_ratio(c1s, hs)
    if not 0 < r <= 16:
        raise ConversionError(f"hidden_ratio {r} is outside (0, 16]")
    m.hidden_ratio = r
    m.clamp = args.clamp
    m.sd, m.prefix, m.fe = sd, p, fe
    return m


# ------------------------------------------------------------- conversion --

def perm_indices(name, w, c):
    """anomalib's dense one-hot w_perm [C, C, 1, 1] (or indices [C]) as indices."""
    if w.ndim == 1:
        idx = w.astype(np.int64)
    else:
        if w.shape != (c, c, 1, 1):
            raise ConversionError(f"tensor '{name}' has shape {list(w.shape)}; expected [{c}, {c}, 1, 1]")
        mat = w[:, :, 0, 0]
        if not np.all((mat == 0) | (mat == 1)) or not np.all(mat.sum(axis=1) == 1):
            raise ConversionError(f"tensor '{name}' is not a one-hot permutation matrix")
        idx = np.argmax(mat, axis=1).astype(np.int64)
    if idx.shape != (c,) or idx.min() < 0 or idx.max() >= c or len(np.unique(idx)) != c:
        raise ConversionError(f"tensor '{name}' is not a permutation of {c} channels")
    return idx


def convert(m, args, log):
    sd, p = m.sd, m.prefix
    out = {}
    if not args.no_backbone:
        for k, v in m.fe.items():
            if k.endswith("num_batches_tracked") or k.startswith(("layer4.", "fc.")):
                continue
            out["feature_extractor." + k] = v
        if not m.fe:
            log("note: the checkpoint holds no backbone weights; load the model with a backbone "
                f"(ff_flow_load(path, backbone)) of architecture {m.backbone}")
    expected, missing = [], []
    for l, c in enumerate(m.chans):
        hw = (m.in_h // STRIDES[l], m.in_w // STRIDES[l])
        c1, c2 = c - c // 2, c // 2
        h = int(c1 * m.hidden_ratio)
        if m.has_norm:
            expected += [(f"norms.{l}.weight", (c,) + hw), (f"norms.{l}.bias", (c,) + hw)]
        for k in range(m.steps):
            kk = 3 if (m.conv3x3_only or k % 2 == 0) else 1
            s = f"fast_flow_blocks.{l}.module_list.{k}."
            expected += [(s + "global_scale", (1, c, 1, 1)), (s + "global_offset", (1, c, 1, 1)),
                         (s + "w_perm", None),
                         (s + "subnet.1.weight", (h, c1, kk, kk)), (s + "subnet.1.bias", (h,)),
                         (s + "subnet.4.weight", (2 * c2, h, kk, kk)), (s + "subnet.4.bias", (2 * c2,))]
    missing = [p + n for n, _ in expected if n not in sd]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise ConversionError(f"missing {len(missing)} tensor(s): {', '.join(missing[:5])}{more}")
    for name, want in expected:
        v = sd[name]
        if name.endswith("w_perm"):
            c = m.chans[int(name.split(".")[1])]
            idx = perm_indices(p + name, v, c)
            inv = sd.get(name + "_inv")
            if inv is not None and not np.array_equal(np.argsort(idx), perm_indices(p + name + "_inv", inv, c)):
                raise ConversionError(f"tensor '{p}{name}_inv' is not the inverse of '{p}{name}'")
            out[name] = idx
            continue
        if tuple(v.shape) != want:
            raise ConversionError(f"tensor '{p}{name}' has shape {list(v.shape)}; expected {list(want)}")
        if v.dtype.kind != "f":
            raise ConversionError(f"tensor '{p}{name}' has dtype {v.dtype}; expected floating point")
        if not np.all(np.isfinite(v)):
            raise ConversionError(f"tensor '{p}{name}' holds NaN or infinite values")
        out[name] = v.astype(np.float32)
    known = {n for n, _ in expected} | {n + "_inv" for n, _ in expected if n.endswith("w_perm")}
    dropped = [k for k in sd if k not in known and not k.startswith("feature_extractor.")]
    if dropped:
        log(f"dropped {len(dropped)} tensor(s) that are not part of the flow: {', '.join(dropped[:5])}")
        extra_steps = [k for k in dropped if k.startswith(("fast_flow_blocks.", "norms."))]
        if extra_steps:
            raise ConversionError(f"tensor '{p}{extra_steps[0]}' does not belong to a flow with {m.levels} levels "
                                  f"and {m.steps} steps")

    meta = {"format": "libfastflow", "format_version": FORMAT_VERSION, "backbone": m.backbone,
            "input_height": str(m.in_h), "input_width": str(m.in_w), "flow_steps": str(m.steps),
            "hidden_ratio": fmt_float(m.hidden_ratio), "conv3x3_only": "true" if m.conv3x3_only else "false",
            "clamp": fmt_float(m.clamp), "source": "anomalib", "source_file": os.path.basename(args.input)}
    for k, v in m.extra.items():
        if k.startswith(STAT_PREFIXES) and v.dtype.kind == "f" and v.size == 1 and np.isfinite(v).all():
            meta["anomalib." + k] = str(np.float32(v.reshape(-1)[0]))  # shortest float32 repr
    return out, meta


def save_atomic(path, tensors, meta):
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".anomalib_to_fastflow.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise ConversionError(f"cannot write '{path}': {e.strerror} (folder '{folder}')") from None
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary only
        st_io.save(tmp, tensors, meta)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description="Convert an anomalib FastFlow checkpoint (.ckpt, .pt or "
                                 "safetensors state dict) into a libfastflow model file.")
    ap.add_argument("input", help="anomalib checkpoint or state dict")
    ap.add_argument("output", help="libfastflow model file to write (.safetensors)")
    ap.add_argument("--backbone", help="resnet18, resnet34, resnet50 or wide_resnet50_2 (default: from the "
                    "hyper-parameters or the backbone weights)")
    ap.add_argument("--flow-steps", type=int, help="check the number of flow steps (default: counted)")
    ap.add_argument("--hidden-ratio", type=float, help="subnet hidden ratio (default: hyper-parameters, else the "
                    "shortest decimal that reproduces the subnet widths)")
    ap.add_argument("--conv3x3-only", choices=("true", "false"), help="default: from the odd steps' kernels")
    ap.add_argument("--input-size", help="H or HxW; must match the LayerNorm shapes (default: from them)")
    ap.add_argument("--clamp", type=float, default=2.0, help="affine clamping (anomalib: 2.0)")
    ap.add_argument("--no-backbone", action="store_true", help="leave the backbone weights out (the model then "
                    "loads only with a backbone given to ff_flow_load)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    if args.hidden_ratio is not None and not (0 < args.hidden_ratio <= 16):
        ap.error("--hidden-ratio must be in (0, 16]")
    if not (0 < args.clamp <= 100) or not math.isfinite(args.clamp):
        ap.error("--clamp must be in (0, 100]")

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr)

    try:
        tensors, hp = load_input(args.input)
        m = analyse(tensors, hp, args, log)
        out, meta = convert(m, args, log)
        save_atomic(args.output, out, meta)
    except ConversionError as e:
        print(f"{PROG}: error: {args.input}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{PROG}: error: {args.input}: {e}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        # malformed hyper-parameters or tensors of unexpected types
        print(f"{PROG}: error: {args.input}: unexpected content ({type(e).__name__}: {e})", file=sys.stderr)
        return 1
    if not args.quiet:
        stats = ", ".join(f"{k[9:]}={v}" for k, v in meta.items() if k.startswith("anomalib.")) or "none"
        print(f"{args.output}: {m.backbone}, input {m.in_h}x{m.in_w}, {m.steps} steps, hidden_ratio "
              f"{meta['hidden_ratio']}, conv3x3_only {meta['conv3x3_only']}, backbone "
              f"{'embedded' if any(k.startswith('feature_extractor.') for k in out) else 'not embedded'}; "
              f"anomalib statistics: {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
