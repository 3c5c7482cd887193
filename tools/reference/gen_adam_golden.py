"""Golden file for the trainer's optimiser (tests/test_trainer.c): what
torch.optim.Adam (L2 weight decay, not AdamW) does to a parameter vector over
three steps. Regenerate with:

    /usr/bin/python3 tools/reference/gen_adam_golden.py

(from the repository root; writes tests/golden/adam_steps.safetensors).

Tensors, for each configuration X in {a, b}:
  X.p0                 [N] initial parameters
  X.g1, X.g2, X.g3     [N] the gradient given at steps 1..3
  X.p1, X.p2, X.p3     [N] the parameters after steps 1..3
Metadata: X.lr, X.weight_decay (betas 0.9/0.999, eps 1e-8 for both).
The gradients mix magnitudes (1e-9 .. 1e3) and exact zeros so that eps, the
bias corrections and the weight-decay term all matter somewhere."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
N = 4096
CONFIGS = [("a", 1e-3, 1e-5), ("b", 5e-4, 1e-2)]


def grads(gen):
    g = torch.randn(N, generator=gen)
    scale = 10.0 ** torch.randint(-9, 4, (N,), generator=gen).float()
    g = g * scale
    g[torch.rand(N, generator=gen) < 0.05] = 0.0
    return g


def main():
    torch.set_num_threads(1)
    out, meta = {}, {"generator": "tools/reference/gen_adam_golden.py"}
    for name, lr, wd in CONFIGS:
        gen = torch.Generator().manual_seed(7 + len(out))
        p = torch.nn.Parameter(torch.randn(N, generator=gen) * 0.5)
        out[f"{name}.p0"] = p.detach().clone()
        opt = torch.optim.Adam([p], lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
        for step in (1, 2, 3):
            g = grads(gen)
            p.grad = g.clone()
            opt.step()
            out[f"{name}.g{step}"] = g
            out[f"{name}.p{step}"] = p.detach().clone()
        meta[f"{name}.lr"] = repr(lr)
        meta[f"{name}.weight_decay"] = repr(wd)
    path = os.path.join(ROOT, "tests", "golden", "adam_steps.safetensors")
    st_io.save(path, {k: v.float().contiguous() for k, v in out.items()}, meta)
    print(f"wrote {path} ({os.path.getsize(path)} bytes), torch {torch.__version__}")


if __name__ == "__main__":
    main()
