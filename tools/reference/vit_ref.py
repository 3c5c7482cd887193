"""PyTorch reference for the transformer backbones (DeiT, CaiT) as timm
defines them, written out here because timm cannot be installed.

The modules follow timm's vision_transformer.py (Block, Attention, Mlp,
PatchEmbed), deit.py (VisionTransformerDistilled: cls + dist tokens) and
cait.py (LayerScaleBlock, TalkingHeadAttn), in inference mode (dropouts and
drop-path are identities). Parameter names equal timm's state-dict names,
so `model.load_state_dict(timm_state_dict, strict=False)` takes a published
model.safetensors (the unused blocks, head and CaiT's class-attention
blocks are simply absent here).

Features, as anomalib's FastFlow computes them:
  DeiT: patch_embed, cat(cls, dist, patches) + pos_embed, blocks[:n_used],
        norm, drop the 2 leading tokens, [B, D, H/16, W/16].
  CaiT: patch_embed + pos_embed, blocks[:n_used], norm, [B, D, H/16, W/16].
"""
import torch
import torch.nn as nn

LN_EPS = 1e-6  # timm: partial(nn.LayerNorm, eps=1e-6)

# name: (family, embed, depth, heads, mlp_ratio, patch, img, blocks used)
CONFIGS = {
    "deit_base_distilled_patch16_384": ("deit", 768, 12, 12, 4.0, 16, 384, 8),
    "deit_small_distilled_patch16_224": ("deit", 384, 12, 6, 4.0, 16, 224, 8),
    "cait_m48_448": ("cait", 768, 48, 16, 4.0, 16, 448, 41),
    "cait_s24_224": ("cait", 384, 24, 8, 4.0, 16, 224, 24),
}


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # [B, N, D]


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) form, timm's default
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """timm vision_transformer.Attention (non-fused path)."""

    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, qkv_bias=True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = Attention(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TalkingHeadAttn(nn.Module):
    """timm cait.TalkingHeadAttn: linear maps across heads before and after
    the softmax; q is scaled before the product."""

    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.num_heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_l = nn.Linear(heads, heads)
        self.proj_w = nn.Linear(heads, heads)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        attn = self.proj_l(attn.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        attn = attn.softmax(dim=-1)
        attn = self.proj_w(attn.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class LayerScaleBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, qkv_bias=True, init_values=1e-5):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = TalkingHeadAttn(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
        self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        x = x + self.gamma_1 * self.attn(self.norm1(x))
        return x + self.gamma_2 * self.mlp(self.norm2(x))


class ViTFeatures(nn.Module):
    """The used part of a DeiT (distilled) or CaiT model."""

    def __init__(self, family, dim, heads, mlp_ratio, patch, img, n_used, qkv_bias=True):
        super().__init__()
        assert family in ("deit", "cait")
        self.family = family
        self.grid = img // patch
        n = self.grid * self.grid
        self.patch_embed = PatchEmbed(patch, 3, dim)
        if family == "deit":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.dist_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, n + 2, dim))
            self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, qkv_bias) for _ in range(n_used)])
        else:
            self.pos_embed = nn.Parameter(torch.zeros(1, n, dim))
            self.blocks = nn.ModuleList([LayerScaleBlock(dim, heads, mlp_ratio, qkv_bias)
                                         for _ in range(n_used)])
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)

    @classmethod
    def from_config(cls, name):
        fam, dim, _depth, heads, mlp, patch, img, used = CONFIGS[name]
        return cls(fam, dim, heads, mlp, patch, img, used)

    def forward(self, x):
        B = x.shape[0]
        t = self.patch_embed(x)
        if self.family == "deit":
            t = torch.cat((self.cls_token.expand(B, -1, -1), self.dist_token.expand(B, -1, -1), t), dim=1)
        t = t + self.pos_embed
        for blk in self.blocks:
            t = blk(t)
        t = self.norm(t)
        if self.family == "deit":
            t = t[:, 2:, :]
        D = t.shape[2]
        return t.permute(0, 2, 1).reshape(B, D, x.shape[2] // self.patch_embed.proj.stride[0],
                                          x.shape[3] // self.patch_embed.proj.stride[1])


def randomize_(model, seed):
    """Weights with realistic magnitudes (timm's init gives zero biases and
    tiny LayerScale, which would hide bugs): every tensor U(-a, a) with a
    chosen per kind, LayerNorm weights around 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            u = torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                v = 1.0 + 0.2 * u
            elif p.dim() >= 2 and not name.endswith("_token") and name != "pos_embed":
                fan_in = p[0].numel()
                v = u * (1.0 / fan_in) ** 0.5 * 1.7
            elif "gamma" in name:
                v = 0.5 + 0.3 * u
            else:
                v = 0.3 * u
            p.copy_(v.float())
