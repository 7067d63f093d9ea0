"""Cross-covariance attention (XCiT, arXiv 2106.09681) as used by SDTA."""
import functools

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cpu_gemm import conv1x1_on_tokens, runs_as_gemms
from .reparam import linear_to_conv1x1


class CrossCovarianceAttention(nn.Module):
    """Attention across channels instead of tokens.

    The attention map is ``heads x (C/heads) x (C/heads)``, so the cost grows
    linearly with the number of tokens: the reason EdgeNeXt can afford a
    global block at high resolution. It takes and returns NCHW maps; the
    Linears run on tokens, after ``switch_to_deploy`` as 1x1 convs on the
    map itself: the channels-by-tokens layout the attention needs.
    """
    deploy = False

    def __init__(self, dim, num_heads=8, qkv_bias=True, attn_drop=0.,
                 proj_drop=0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(
                f'SDTA width {dim} is not divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def switch_to_deploy(self, out_scale=None):
        """qkv and proj as 1x1 convs on NCHW maps (``out_scale``, a layer
        scale, folded into proj)."""
        if self.deploy:
            return
        self.qkv = linear_to_conv1x1(self.qkv)
        self.proj = linear_to_conv1x1(self.proj, out_scale)
        self.deploy = True

    def _attend(self, q, k, v):
        """(B, heads, C/heads, N) each: channels attend to channels over
        tokens."""
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)) * self.temperature
        return self.attn_drop(attn.softmax(dim=-1)) @ v

    def forward(self, x):
        """x: (B, C, H, W) map -> (B, C, H, W)."""
        if not self.deploy:
            return self._on_tokens(x, self.qkv, self.proj)
        if runs_as_gemms(x):
            return self._on_tokens(
                x, functools.partial(conv1x1_on_tokens, self.qkv),
                functools.partial(conv1x1_on_tokens, self.proj))
        B, C, H, W = x.shape
        q, k, v = self.qkv(x).reshape(B, 3, self.num_heads,
                                      C // self.num_heads, H * W).unbind(1)
        return self.proj(self._attend(q, k, v).reshape(B, C, H, W))

    def _on_tokens(self, x, qkv, proj):
        """The attention on (B, HW, C) tokens, ``qkv`` and ``proj`` taking
        tokens (the Linears, or the inference form's 1x1 convs as GEMMs)."""
        B, C, H, W = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        q, k, v = qkv(tokens).reshape(
            B, H * W, 3, self.num_heads,
            C // self.num_heads).permute(2, 0, 3, 4, 1).unbind(0)
        x = self._attend(q, k, v).permute(0, 3, 1, 2).reshape(B, H * W, C)
        return self.proj_drop(proj(x)).transpose(1, 2).reshape(B, C, H, W)
