"""Cross-covariance attention (XCiT, arXiv 2106.09681) as used by SDTA."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .deploy import as_matrix, eager_cpu_inference, linear_to_conv1x1


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
        B, C, H, W = x.shape
        if self.deploy and not eager_cpu_inference(x):
            q, k, v = self.qkv(x).reshape(B, 3, self.num_heads,
                                          C // self.num_heads, H * W).unbind(1)
            return self.proj(self._attend(q, k, v).reshape(B, C, H, W))
        # Tokens (B, HW, C); the deploy form's 1x1 convs run as the same
        # GEMMs at eager CPU inference (cheaper than oneDNN's 1x1 conv there).
        tokens = x.flatten(2).transpose(1, 2)
        qkv = F.linear(tokens, as_matrix(self.qkv), self.qkv.bias).reshape(
            B, H * W, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 4, 1).unbind(0)
        x = self._attend(q, k, v).permute(0, 3, 1, 2).reshape(B, H * W, C)
        x = self.proj_drop(F.linear(x, as_matrix(self.proj), self.proj.bias))
        return x.transpose(1, 2).reshape(B, C, H, W)
