"""The two EdgeNeXt blocks: the conv encoder and the SDTA encoder.

Both work on NCHW maps and end in the same layer-scaled pointwise MLP with a
residual connection. The LayerNorm/GELU and BatchNorm/Hardswish families
share the code; their norm and activation come from ``norm_cfg`` and
``act_cfg``.
"""
import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer
from mmcv.cnn.bricks import DropPath
from torch.nn.modules.batchnorm import _BatchNorm

from .cpu_gemm import mlp_residual_as_gemms, runs_as_gemms
from .norm import build_norm, is_batch_norm
from .positional_encoding import FourierPositionalEncoding
from .reparam import linear_to_conv1x1
from .xca import CrossCovarianceAttention


def _layer_scale(dim, init_value):
    if init_value > 0:
        return nn.Parameter(init_value * torch.ones(dim))
    return None


class _PointwiseMLPBlock(nn.Module):
    """Shared tail: norm -> pwconv1 -> act -> pwconv2 -> layer scale ->
    drop path -> residual.

    The Linears run on the channels-last view of the map (a permute, no copy
    when the map is stored channels-last). ``switch_to_deploy`` turns the
    tail into its inference form.
    """
    deploy = False

    def _build_mlp(self, dim, norm_cfg, act_cfg, expan_ratio,
                   layer_scale_init, drop_path):
        self.norm = build_norm(norm_cfg, dim)
        self.pwconv1 = nn.Linear(dim, expan_ratio * dim)
        self.act = build_activation_layer(act_cfg)
        self.pwconv2 = nn.Linear(expan_ratio * dim, dim)
        self.gamma = _layer_scale(dim, layer_scale_init)
        self.drop_path = (DropPath(drop_path)
                          if drop_path > 0 else nn.Identity())

    def switch_to_deploy(self):
        """Inference form for export and int8 (mmyolo's pattern): the MLP's
        Linears become 1x1 convs on the NCHW map, so no layout transposes
        sit between the quantized ops; a BatchNorm is folded into the first
        conv, the layer scale into the second. The same function in float,
        up to rounding; at eager CPU inference the convs run as GEMMs with
        the activation in place and the residual add as the accumulator
        (:mod:`.cpu_gemm`). Irreversible (build a new model to train)."""
        if self.deploy:
            return
        if isinstance(self.norm, _BatchNorm):
            self.pwconv1 = linear_to_conv1x1(self.pwconv1, in_bn=self.norm)
            self.norm = nn.Identity()
        else:
            self.pwconv1 = linear_to_conv1x1(self.pwconv1)
        self.pwconv2 = linear_to_conv1x1(self.pwconv2, self.gamma)
        self.gamma = None
        self.deploy = True

    def _mlp_residual(self, shortcut, x):
        """``shortcut`` + the layer-scaled ``MLP(norm(x))``; NCHW maps."""
        x = self.norm(x)
        if self.deploy:  # inference only: no drop path
            if runs_as_gemms(x):
                return mlp_residual_as_gemms(self.pwconv1, self.act,
                                             self.pwconv2, x, shortcut)
            return shortcut + self.pwconv2(self.act(self.pwconv1(x)))
        x = self.pwconv2(self.act(self.pwconv1(x.permute(0, 2, 3, 1))))
        if self.gamma is not None:
            x = self.gamma * x
        return shortcut + self.drop_path(x.permute(0, 3, 1, 2))


class ConvEncoder(_PointwiseMLPBlock):
    """Depthwise kxk conv followed by the pointwise MLP (ConvNeXt-style)."""

    def __init__(self, dim, kernel_size=7,
                 norm_cfg=dict(type='LN2d', eps=1e-6),
                 act_cfg=dict(type='GELU'), expan_ratio=4,
                 layer_scale_init=1e-6, drop_path=0., dilation=1):
        super().__init__()
        self.dwconv = nn.Conv2d(
            dim, dim, kernel_size, padding=dilation * (kernel_size // 2),
            dilation=dilation, groups=dim,
            bias=not is_batch_norm(norm_cfg))  # as the reference
        self._build_mlp(dim, norm_cfg, act_cfg, expan_ratio,
                        layer_scale_init, drop_path)

    def forward(self, x):
        return self._mlp_residual(x, self.dwconv(x))


class SDTAEncoder(_PointwiseMLPBlock):
    """Split depth-wise transpose attention encoder.

    Channels are split into ``scales`` groups; all but the last go through a
    hierarchy of 3x3 depthwise convs (each group adds the previous group's
    output, Res2Net-style) to widen the receptive field at several scales.
    Cross-covariance attention then mixes channels globally. As in the
    reference, the attention branch is a residual on the split convs' map
    and only the MLP's residual connects to the block input; the BatchNorm
    family normalises that map itself, before the positional encoding, and
    attends to it as it is, where the LayerNorm family normalises only the
    attention's input.
    """

    def __init__(self, dim, scales=2, num_heads=8, use_pos_emb=False,
                 norm_cfg=dict(type='LN2d', eps=1e-6),
                 act_cfg=dict(type='GELU'), expan_ratio=4,
                 layer_scale_init=1e-6, drop_path=0., dilation=1):
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
        self.normalise_map = is_batch_norm(norm_cfg)
        self.norm_xca = build_norm(norm_cfg, dim)
        self.gamma_xca = _layer_scale(dim, layer_scale_init)
        self.xca = CrossCovarianceAttention(dim, num_heads=num_heads)
        self._build_mlp(dim, norm_cfg, act_cfg, expan_ratio,
                        layer_scale_init, drop_path)

    def switch_to_deploy(self):
        """As the MLP's, and the attention's Linears as 1x1 convs too (the
        layer scale folded into its projection)."""
        if self.deploy:
            return
        self.xca.switch_to_deploy(self.gamma_xca)
        self.gamma_xca = None
        super().switch_to_deploy()

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

    def forward(self, x):
        shortcut = x
        x = self._split_convs(x)
        if self.normalise_map:  # the BN family, see the class docstring
            x = self.norm_xca(x)
        if self.pos_embd is not None:
            x = x + self.pos_embd(*x.shape[2:]).to(x.dtype)
        attn = self.xca(x if self.normalise_map else self.norm_xca(x))
        if self.gamma_xca is not None:
            attn = self.gamma_xca[:, None, None] * attn
        x = x + self.drop_path(attn)
        return self._mlp_residual(shortcut, x)
