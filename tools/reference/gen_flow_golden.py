"""Golden files for the flow engine (tests/test_flow_engine.c) and the
trainer's Adam step. Regenerate with:

    /usr/bin/python3 tools/reference/gen_flow_golden.py

(from the repository root; writes tests/golden/flow_*.safetensors).

    /usr/bin/python3 tools/reference/gen_flow_golden.py --big DIR

writes DIR/flow_resnet18.safetensors instead: resnet18's full-size shapes at
256x256 (8 steps, 3x3), ~80 MB, never committed; run the engine test on it
with FF_FLOW_EXTRA_GOLDEN=DIR/flow_resnet18.safetensors.

Before writing, it checks the reference (fastflow_ref.py) against the spec
independently: a float64 numpy re-implementation of the whole forward pass
(LayerNorm, coupling steps with explicit convolutions, loss, bilinear map)
and torch.autograd.gradcheck in double on a tiny flow.

Tensors in each file (N = batch, L = levels):
  input.{l}                 [N, C, H, W] features before the LayerNorm
  <anomalib name>           every parameter, e.g. norms.0.weight,
                            fast_flow_blocks.0.module_list.1.subnet.4.bias,
                            ...w_perm / w_perm_inv (one-hot permutations)
  out.z.{l}                 [N, C, H, W] flow output
  out.logdet                [N, L] per sample and level (flow log-det)
  out.loss                  [1]
  out.maps                  [N, in_h, in_w] anomaly maps
  grad.<anomalib name>      d loss / d parameter (trainable ones only)
  adam.<anomalib name>      the parameter after one torch.optim.Adam step
                            from these gradients (lr 1e-3, betas 0.9/0.999,
                            eps 1e-8, weight_decay 1e-5 as L2), first step
Metadata: shapes "C,H,W;C,H,W;...", in_h, in_w, steps, conv3x3_only,
hidden_ratio, clamp, batch, use_norm (0: no LayerNorm, as for ViT backbones)."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastflow_ref as ref  # noqa: E402
import st_io  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CONFIGS = [
    # name, shapes, input size, steps, conv3x3_only, hidden_ratio
    ("flow_3x3", [(8, 8, 8), (16, 4, 4), (32, 2, 2)], (32, 32), 4, True, 1.0),
    # odd channel counts (c1 != c2), alternating kernels, a hidden ratio that
    # truncates, non-square maps
    ("flow_alt", [(7, 8, 12), (13, 4, 6), (26, 2, 3)], (32, 48), 4, False, 0.75),
    # ViT-like: one level, no LayerNorm, hidden ratio 0.16, odd step count
    ("flow_vit", [(40, 6, 6)], (96, 96), 3, False, 0.16, False),
]
BATCH = 2


def perturb(model, gen):
    """Non-trivial parameters: conv weights scaled so the tanh clamp works
    in its non-linear range, global affine and LayerNorm off their init."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            r = torch.randn(p.shape, generator=gen)
            if name.endswith("global_scale"):
                p.add_(1.5 * r)
            elif name.endswith("global_offset"):
                p.copy_(0.2 * r)
            elif name.startswith("norms") and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * r)
            elif name.startswith("norms"):
                p.copy_(0.2 * r)
            elif name.endswith("subnet.4.weight"):
                p.mul_(6.0)
            elif name.endswith("bias"):
                p.add_(0.1 * r)


# ---------------------------------------------------------------- numpy check
def np_conv(x, w, b):
    """Zero-padded 'same' convolution, float64, x [N,Ci,H,W], w [Co,Ci,k,k]."""
    k = w.shape[2]
    p = k // 2
    n, ci, h, wd = x.shape
    xp = np.zeros((n, ci, h + 2 * p, wd + 2 * p))
    xp[:, :, p:p + h, p:p + wd] = x
    out = np.zeros((n, w.shape[0], h, wd))
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, :, dy:dy + h, dx:dx + wd]
            out += np.einsum("oc,nchw->nohw", w[:, :, dy, dx], patch)
    return out + b[None, :, None, None]


def np_bilinear(m, out_h, out_w):
    """align_corners=False bilinear resize of [N, H, W] (PyTorch's rule:
    src = (dst + 0.5) * in/out - 0.5, clamped at 0)."""
    n, h, w = m.shape

    def axis(o, i):
        src = np.maximum((np.arange(o) + 0.5) * i / o - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(int), i - 1)
        i1 = np.minimum(i0 + 1, i - 1)
        return i0, i1, src - i0

    y0, y1, fy = axis(out_h, h)
    x0, x1, fx = axis(out_w, w)
    top = m[:, y0][:, :, x0] * (1 - fx) + m[:, y0][:, :, x1] * fx
    bot = m[:, y1][:, :, x0] * (1 - fx) + m[:, y1][:, :, x1] * fx
    return top * (1 - fy)[None, :, None] + bot * fy[None, :, None]


def np_forward(sd, feats, shapes, steps, in_size, clamp=2.0):
    zs, lds = [], []
    for l, f in enumerate(feats):
        x = f.astype(np.float64)
        mu = x.mean(axis=(1, 2, 3), keepdims=True)
        var = ((x - mu) ** 2).mean(axis=(1, 2, 3), keepdims=True)
        if f"norms.{l}.weight" in sd:
            x = (x - mu) / np.sqrt(var + 1e-5) * sd[f"norms.{l}.weight"] + sd[f"norms.{l}.bias"]
        c = shapes[l][0]
        c1, c2 = c - c // 2, c // 2
        ld = np.zeros(x.shape[0])
        for k in range(steps):
            pre = f"fast_flow_blocks.{l}.module_list.{k}."
            hdn = np.maximum(np_conv(x[:, :c1], sd[pre + "subnet.1.weight"], sd[pre + "subnet.1.bias"]), 0)
            a = 0.1 * np_conv(hdn, sd[pre + "subnet.4.weight"], sd[pre + "subnet.4.bias"])
            s = clamp * np.tanh(a[:, :c2])
            y2 = x[:, c1:] * np.exp(s) + a[:, c2:]
            u = np.concatenate([x[:, :c1], y2], axis=1)
            gs = sd[pre + "global_scale"].reshape(-1).astype(np.float64)
            g = 0.2 * np.log1p(np.exp(0.5 * gs))
            u = u * g[None, :, None, None] + sd[pre + "global_offset"].reshape(1, -1, 1, 1)
            perm = np.argmax(sd[pre + "w_perm"][:, :, 0, 0], axis=1)
            x = u[:, perm]
            ld += s.sum(axis=(1, 2, 3)) + x.shape[2] * x.shape[3] * np.log(g).sum()
        zs.append(x)
        lds.append(ld)
    loss = sum(np.mean(0.5 * (z ** 2).sum(axis=(1, 2, 3)) - ld) for z, ld in zip(zs, lds))
    maps = np.mean([np_bilinear(-np.exp(-0.5 * (z ** 2).mean(axis=1)), *in_size) for z in zs], axis=0)
    return zs, np.stack(lds, axis=1), loss, maps


def rel(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def check_gradcheck():
    """Autograd of the reference against finite differences (double)."""
    torch.manual_seed(3)
    m = ref.FastFlowRef([(4, 3, 3), (5, 2, 2)], (6, 6), flow_steps=2, conv3x3_only=False,
                        hidden_ratio=1.0).double()
    perturb(m, torch.Generator().manual_seed(4))
    names = [n for n, _ in m.trainable()]
    params = tuple(p.detach().clone().requires_grad_(True) for _, p in m.trainable())
    buffers = {n: p.detach() for n, p in m.named_parameters() if not p.requires_grad}
    feats = [torch.randn(2, *s, dtype=torch.float64) for s in m.shapes]

    def fn(*ps):
        d = dict(zip(names, ps))
        d.update(buffers)
        zs, lds, loss = torch.nn.utils.stateless.functional_call(m, d, (feats,))
        return loss, m.anomaly_map(zs)

    ok = torch.autograd.gradcheck(fn, params, eps=1e-6, atol=1e-6, rtol=1e-4)
    print("gradcheck (double, 2 levels, 2 steps, 1x1 and 3x3):", "ok" if ok else "FAILED")
    if not ok:
        raise SystemExit(1)


def make(name, shapes, in_size, steps, conv3x3_only, hidden_ratio, use_norm=True, out_dir=None):
    seed = 1234 + len(name) * 7 + steps
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = ref.FastFlowRef(shapes, in_size, flow_steps=steps, conv3x3_only=conv3x3_only,
                            hidden_ratio=hidden_ratio, use_norm=use_norm)
    gen = torch.Generator().manual_seed(seed + 1)
    perturb(model, gen)
    feats = [(torch.randn(BATCH, *s, generator=gen) * 1.5 + 0.3 * torch.rand(1, *s, generator=gen))
             for s in shapes]

    zs, lds, loss = model(feats)
    maps = model.anomaly_map(zs)
    model.zero_grad()
    loss.backward()

    # independent float64 re-computation from the spec's formulas
    sd = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    nz, nld, nloss, nmaps = np_forward(sd, [f.numpy() for f in feats], shapes, steps, in_size)
    errs = [max(rel(z.detach(), a) for z, a in zip(zs, nz)), rel(lds.detach(), nld),
            abs(loss.item() - nloss) / abs(nloss), rel(maps.detach(), nmaps)]
    print(f"{name}: numpy float64 vs torch float32 rel err z {errs[0]:.2e} logdet {errs[1]:.2e} "
          f"loss {errs[2]:.2e} maps {errs[3]:.2e}; loss {loss.item():.6f}")
    if max(errs) > 1e-4:
        raise SystemExit(f"{name}: reference disagrees with the numpy re-computation")

    out = {}
    for l, f in enumerate(feats):
        out[f"input.{l}"] = f
    # clones: the Adam step below updates the parameters in place
    for n, p in model.state_dict().items():
        out[n] = p.detach().clone()
    for l, z in enumerate(zs):
        out[f"out.z.{l}"] = z
    out["out.logdet"] = lds
    out["out.loss"] = loss.detach().reshape(1)
    out["out.maps"] = maps
    for n, p in model.trainable():
        out["grad." + n] = p.grad.detach().clone()
    opt = model.adam()
    opt.step()
    for n, p in model.trainable():
        out["adam." + n] = p.detach().clone()
    meta = {"shapes": ";".join(",".join(str(v) for v in s) for s in shapes), "in_h": in_size[0],
            "in_w": in_size[1], "steps": steps, "conv3x3_only": int(conv3x3_only),
            "hidden_ratio": hidden_ratio, "clamp": 2.0, "batch": BATCH, "use_norm": int(use_norm),
            "generator": "tools/reference/gen_flow_golden.py"}
    path = os.path.join(out_dir or os.path.join(ROOT, "tests", "golden"), name + ".safetensors")
    st_io.save(path, {k: v.detach().float().contiguous() for k, v in out.items()}, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--big":
        torch.set_num_threads(2)
        make("flow_resnet18", [(64, 64, 64), (128, 32, 32), (256, 16, 16)], (256, 256), 8, True, 1.0,
             out_dir=sys.argv[2])
        return
    torch.set_num_threads(1)
    check_gradcheck()
    for cfg in CONFIGS:
        make(*cfg)


if __name__ == "__main__":
    main()
