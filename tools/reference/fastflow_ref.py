"""PyTorch reference of FastFlow's flow part, written from
shared/spec/fastflow-model.md to match anomalib's FastflowModel (whose
coupling block is FrEIA's AllInOneBlock of early 2022) module for module, so
that its state-dict names are anomalib's:

  norms.{l}.weight / .bias                                  LayerNorm([C, H, W])
  fast_flow_blocks.{l}.module_list.{k}.global_scale         [1, C, 1, 1]
  fast_flow_blocks.{l}.module_list.{k}.global_offset        [1, C, 1, 1]
  fast_flow_blocks.{l}.module_list.{k}.w_perm / w_perm_inv  [C, C, 1, 1] (frozen)
  fast_flow_blocks.{l}.module_list.{k}.subnet.{1,4}.weight / .bias

Only the flow (LayerNorm + coupling steps), loss and anomaly map are here;
the backbone is a separate reference. Used by gen_flow_golden.py and
bench/flow_ref.py."""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GLOBAL_SCALE_INIT = 2.0 * math.log(math.exp(5.0) - 1.0)  # softplus_{beta=0.5}(.) * 0.1 == 1


def step_kernel(i, conv3x3_only):
    return 3 if (conv3x3_only or i % 2 == 0) else 1


def subnet(in_ch, out_ch, kernel, hidden_ratio):
    """anomalib's subnet_conv: pad, conv, ReLU, pad, conv (names subnet.1, subnet.4)."""
    hidden = int(in_ch * hidden_ratio)
    p = kernel // 2
    return nn.Sequential(nn.ZeroPad2d((p, p, p, p)), nn.Conv2d(in_ch, hidden, kernel), nn.ReLU(),
                         nn.ZeroPad2d((p, p, p, p)), nn.Conv2d(hidden, out_ch, kernel))


class CouplingStep(nn.Module):
    """FrEIA AllInOneBlock with anomalib's arguments (affine_clamping 2.0,
    global_affine_type SOFTPLUS, permute_soft False, no conditions)."""

    def __init__(self, channels, kernel, hidden_ratio, clamp=2.0, perm=None):
        super().__init__()
        self.c1 = channels - channels // 2
        self.c2 = channels // 2
        self.clamp = clamp
        self.subnet = subnet(self.c1, 2 * self.c2, kernel, hidden_ratio)
        self.global_scale = nn.Parameter(torch.full((1, channels, 1, 1), GLOBAL_SCALE_INIT))
        self.global_offset = nn.Parameter(torch.zeros(1, channels, 1, 1))
        if perm is None:
            perm = np.random.permutation(channels)
        w = torch.zeros(channels, channels)
        for i, j in enumerate(perm):
            w[i, j] = 1.0
        self.w_perm = nn.Parameter(w.view(channels, channels, 1, 1), requires_grad=False)
        self.w_perm_inv = nn.Parameter(w.t().contiguous().view(channels, channels, 1, 1), requires_grad=False)

    def scale(self):
        # 0.1 * Softplus(beta=0.5): 0.2 * log1p(exp(0.5 * gs))
        return 0.1 * F.softplus(self.global_scale, beta=0.5)

    def forward(self, x):
        x1, x2 = torch.split(x, [self.c1, self.c2], dim=1)
        a = 0.1 * self.subnet(x1)
        s = self.clamp * torch.tanh(a[:, :self.c2])
        y2 = x2 * torch.exp(s) + a[:, self.c2:]
        u = torch.cat((x1, y2), 1)
        g = self.scale()
        y = F.conv2d(u * g + self.global_offset, self.w_perm)
        n_pixels = x[0, :1].numel()
        logdet = torch.sum(s, dim=(1, 2, 3)) + n_pixels * torch.sum(torch.log(g))
        return y, logdet


class Flow(nn.Module):
    """FrEIA SequenceINN stand-in: the steps live in module_list."""

    def __init__(self, steps):
        super().__init__()
        self.module_list = nn.ModuleList(steps)

    def forward(self, x):
        logdet = torch.zeros(x.shape[0], dtype=x.dtype)
        for m in self.module_list:
            x, j = m(x)
            logdet = logdet + j
        return x, logdet


class FastFlowRef(nn.Module):
    def __init__(self, shapes, input_size, flow_steps=8, conv3x3_only=True, hidden_ratio=1.0, clamp=2.0,
                 use_norm=True, perms=None):
        """shapes: list of (C, H, W) per level; input_size: (H, W)."""
        super().__init__()
        self.shapes = [tuple(s) for s in shapes]
        self.input_size = tuple(input_size)
        self.use_norm = use_norm
        if use_norm:
            self.norms = nn.ModuleList([nn.LayerNorm(list(s), elementwise_affine=True) for s in self.shapes])
        blocks = []
        for l, (c, _, _) in enumerate(self.shapes):
            steps = []
            for i in range(flow_steps):
                perm = None if perms is None else perms[l][i]
                steps.append(CouplingStep(c, step_kernel(i, conv3x3_only), hidden_ratio, clamp, perm))
            blocks.append(Flow(steps))
        self.fast_flow_blocks = nn.ModuleList(blocks)

    def forward(self, feats):
        """feats: list of [N, C, H, W] (before the LayerNorm). Returns
        (z list, logdet [N, levels], loss scalar)."""
        zs, lds = [], []
        for l, f in enumerate(feats):
            if self.use_norm:
                f = self.norms[l](f)
            z, ld = self.fast_flow_blocks[l](f)
            zs.append(z)
            lds.append(ld)
        loss = sum(torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - ld) for z, ld in zip(zs, lds))
        return zs, torch.stack(lds, dim=1), loss

    def anomaly_map(self, zs):
        maps = []
        for z in zs:
            prob = torch.exp(-torch.mean(z ** 2, dim=1, keepdim=True) * 0.5)
            maps.append(F.interpolate(-prob, size=self.input_size, mode="bilinear", align_corners=False))
        return torch.mean(torch.stack(maps, dim=-1), dim=-1)[:, 0]

    def trainable(self):
        """(name, parameter) of everything Adam trains (w_perm excluded)."""
        return [(n, p) for n, p in self.named_parameters() if p.requires_grad]

    def adam(self):
        """The spec's optimiser over trainable(): Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
        1e-5 added to the gradient (L2, not AdamW), as libfastflow's trainer."""
        return torch.optim.Adam([p for _, p in self.trainable()], lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=1e-5)


def from_model_file(path, shapes, size):
    """The reference model with every parameter and permutation taken from a
    libfastflow model file (anomalib names; w_perm as I64 indices)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import st_io
    tensors, meta = st_io.load(path)
    steps = int(meta["flow_steps"])
    perms = [[tensors[f"fast_flow_blocks.{l}.module_list.{k}.w_perm"].astype(np.int64) for k in range(steps)]
             for l in range(len(shapes))]
    model = FastFlowRef(shapes, (size, size), flow_steps=steps, conv3x3_only=meta["conv3x3_only"] == "true",
                        hidden_ratio=float(meta["hidden_ratio"]), perms=perms)
    state = model.state_dict()
    for name in state:
        if name.endswith("w_perm") or name.endswith("w_perm_inv"):
            continue
        state[name] = torch.from_numpy(tensors[name].reshape(state[name].shape).copy())
    model.load_state_dict(state)
    return model
