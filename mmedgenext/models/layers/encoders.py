"""The two EdgeNeXt blocks: the conv encoder and the SDTA encoder.

Both end in the same layer-scaled pointwise MLP with a residual connection;
the LayerNorm/GELU and BatchNorm/Hardswish families differ only in where the
norm sits (channels-last inside the block vs. on the NCHW map).
"""
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath

from mmedgenext.compat import is_compiling

from .norm import build_activation, build_token_norm
from .positional_encoding import FourierPositionalEncoding
from .xca import CrossCovarianceAttention


# oneDNN runs Linear + activation as one kernel (the activation applied as
# the GEMM's output is written): same values, one pass over the 4x-wide
# hidden activations less. Used for CPU inference only, and only for maps of
# at least 512 positions: below that (measured on 2 cores: 256 rows and
# fewer) the call's fixed cost outweighs the saved pass.
_FUSABLE_ACTIVATIONS = {
    nn.GELU: ('gelu', 'none'),
    nn.Hardswish: ('hardswish', '')
}
_HAS_ONEDNN_LINEAR = torch.backends.mkldnn.is_available() and hasattr(
    torch.ops.mkldnn, '_linear_pointwise')
_FUSION_MIN_ROWS = 512


def _can_fuse(x):
    return (_HAS_ONEDNN_LINEAR and x.device.type == 'cpu'
            and x.dtype == torch.float32 and not torch.is_grad_enabled()
            and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export()
            and not is_compiling()
            and x.numel() // x.shape[-1] >= _FUSION_MIN_ROWS)


def _residual(shortcut, branch):
    """``shortcut + branch``; in place into the block's own branch output
    when no graph is kept (an out-of-place add of channels-last maps is
    about 3x slower on CPU)."""
    if torch.is_grad_enabled():
        return shortcut + branch
    return branch.add_(shortcut)


def _layer_scale(dim, init_value):
    if init_value > 0:
        return nn.Parameter(init_value * torch.ones(dim))
    return None


class _PointwiseMLPBlock(nn.Module):
    """Shared tail: norm -> Linear -> act -> Linear -> layer scale -> residual.

    At CPU inference the activation is fused into the first Linear.
    """

    def _build_mlp(self, dim, norm_type, expan_ratio, layer_scale_init,
                   drop_path):
        self.norm_type = norm_type
        self.norm = build_token_norm(norm_type, dim)
        self.pwconv1 = nn.Linear(dim, expan_ratio * dim)
        self.act = build_activation(norm_type)
        self.pwconv2 = nn.Linear(expan_ratio * dim, dim)
        self.gamma = _layer_scale(dim, layer_scale_init)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def _mlp_residual(self, shortcut, x):
        """x: NCHW map; returns ``shortcut + layer-scaled MLP(norm(x))``."""
        if self.norm_type == 'BN':
            x = self.norm(x)
        x = x.permute(0, 2, 3, 1)
        if self.norm_type == 'LN':
            x = self.norm(x)
        if _can_fuse(x):
            attr, algorithm = _FUSABLE_ACTIVATIONS[type(self.act)]
            x = torch.ops.mkldnn._linear_pointwise(
                x, self.pwconv1.weight, self.pwconv1.bias, attr, [],
                algorithm)
        else:
            x = self.act(self.pwconv1(x))
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = x * self.gamma if torch.is_grad_enabled() else x.mul_(
                self.gamma)
        return _residual(shortcut, self.drop_path(x.permute(0, 3, 1, 2)))


class ConvEncoder(_PointwiseMLPBlock):
    """Depthwise kxk conv followed by the pointwise MLP (ConvNeXt-style)."""

    def __init__(self, dim, kernel_size=7, norm_type='LN', expan_ratio=4,
                 layer_scale_init=1e-6, drop_path=0., dilation=1):
        super().__init__()
        self.dwconv = nn.Conv2d(
            dim, dim, kernel_size, padding=dilation * (kernel_size // 2),
            dilation=dilation, groups=dim,
            bias=norm_type == 'LN')  # a following BatchNorm makes bias moot
        self._build_mlp(dim, norm_type, expan_ratio, layer_scale_init,
                        drop_path)

    def forward(self, x):
        return self._mlp_residual(x, self.dwconv(x))


class SDTAEncoder(_PointwiseMLPBlock):
    """Split depth-wise transpose attention encoder.

    Channels are split into ``scales`` groups; all but the last go through a
    hierarchy of 3x3 depthwise convs (each group adds the previous group's
    output, Res2Net-style) to widen the receptive field at several scales.
    Cross-covariance attention then mixes channels globally. As in the
    reference, the attention branch is a residual on the token map and only
    the MLP's residual connects to the block input.
    """

    def __init__(self, dim, scales=2, num_heads=8, use_pos_emb=False,
                 norm_type='LN', expan_ratio=4, layer_scale_init=1e-6,
                 drop_path=0., dilation=1):
        super().__init__()
        width = -(-dim // scales)  # ceil, as the reference's split width
        last = dim - width * (scales - 1)
        if scales < 2 or last <= 0:
            raise ValueError(
                f'SDTA cannot split {dim} channels into {scales} groups of '
                f'width {width}; use d2_scales >= 2 with dim > '
                f'{width * (scales - 1)}')
        self.split_sizes = [width] * (scales - 1) + [last]
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation,
                      groups=width) for _ in range(scales - 1))
        self.pos_embd = FourierPositionalEncoding(dim) if use_pos_emb else None
        self.norm_xca = build_token_norm(norm_type, dim)
        self.gamma_xca = _layer_scale(dim, layer_scale_init)
        self.xca = CrossCovarianceAttention(dim, num_heads=num_heads)
        self._build_mlp(dim, norm_type, expan_ratio, layer_scale_init,
                        drop_path)

    def _split_convs(self, x):
        groups = torch.split(x, self.split_sizes, dim=1)
        outs, y = [], groups[0]
        for i, conv in enumerate(self.convs):
            if i > 0:
                y = y + groups[i]
            y = conv(y)
            outs.append(y)
        outs.append(groups[-1])
        return torch.cat(outs, dim=1)

    def _attention(self, tokens):
        x = self.xca(tokens)
        return x if self.gamma_xca is None else self.gamma_xca * x

    def forward(self, x):
        shortcut = x
        x = self._split_convs(x)
        B, C, H, W = x.shape
        if self.norm_type == 'BN':
            # BN family: the token map itself is normalised, before the
            # positions are added, and the attention sees it unnormalised.
            x = self.norm_xca(x)
        tokens = x.flatten(2).transpose(1, 2)  # (B, HW, C)
        if self.pos_embd is not None:
            tokens = tokens + self.pos_embd(H, W).flatten(2).transpose(1, 2)
        attn_input = tokens if self.norm_type == 'BN' else self.norm_xca(
            tokens)
        tokens = _residual(tokens,
                           self.drop_path(self._attention(attn_input)))
        x = tokens.transpose(1, 2).reshape(B, C, H, W)
        return self._mlp_residual(shortcut, x)
