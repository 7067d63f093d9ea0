"""The global circular convolution (GCC / ParC) blocks of EdgeFormer
(ParC-Net, Zhang et al., ECCV 2022).

Module and parameter names are ml-cvnets' (``meta_kernel_1_H``,
``spatial_global_rep``, ``local_global_fusion`` ...), so the authors'
released state dicts map onto these modules by prefix alone.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cvnets_blocks import ConvLayer


def circular_conv(x, kernel, dim):
    """Depthwise global circular convolution along ``dim`` (2: H, 3: W):
    ``out[i] = sum_k kernel[k] * x[(i + k) mod L]``, computed, as the
    authors do, as a valid conv over ``x`` followed by its first L-1 rows."""
    wrapped = torch.cat([x, x.narrow(dim, 0, x.shape[dim] - 1)], dim)
    return F.conv2d(wrapped, kernel, groups=x.shape[1])


def _interp_matrix(src, dst):
    """``(dst, src)`` weights of 1-D linear interpolation with
    ``align_corners=True`` (what ``F.interpolate`` computes on the kernels),
    built in Python so that a trace records one constant."""
    rows = []
    for i in range(dst):
        pos = i * (src - 1) / (dst - 1) if dst > 1 else 0.
        lo = min(int(math.floor(pos)), src - 1)
        row = [0.] * src
        row[lo] += 1 - (pos - lo)
        row[min(lo + 1, src - 1)] += pos - lo
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float32)


class ChannelAttention(nn.Module):
    """Squeeze-excitation with BN and hard activations (``CA_layer``)."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1, bias=False),
            nn.BatchNorm2d(channels // reduction), nn.Hardswish(),
            nn.Conv2d(channels // reduction, channels, 1, bias=False),
            nn.BatchNorm2d(channels), nn.Hardsigmoid())

    def forward(self, x):
        return x * self.fc(x.mean((2, 3), keepdim=True))


class GCCBlock(nn.Module):
    """The ParC block (``gcc_ca_mf_block``): half the channels mix along H
    then W, the other half along W then H, each by global circular convs
    whose meta kernels (and positional embeddings) are resized to the
    feature size; then a BN/Hardswish FFN gated by channel attention.

    The kernels are resized to the feature *height* for both directions, as
    the authors' code does; the backbone rejects non-square inputs.
    """

    def __init__(self, dim, meta_kernel_size, ffn_channels, use_pe=False,
                 dropout=0.1):
        super().__init__()
        self.dim = dim
        self.pre_Norm_1 = nn.BatchNorm2d(dim)
        self.pre_Norm_2 = nn.BatchNorm2d(dim)
        k = meta_kernel_size
        for name, shape in (('1_H', (k, 1)), ('1_W', (1, k)), ('2_H', (k, 1)),
                            ('2_W', (1, k))):
            weight = nn.Parameter(torch.empty(dim, 1, *shape))
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # nn.Conv2d's
            setattr(self, f'meta_kernel_{name}', weight)
            if use_pe:
                setattr(self, f'meta_pe_{name}',
                        nn.Parameter(torch.randn(1, dim, *shape)))
        self.use_pe = use_pe
        self.ffn = nn.Sequential(
            nn.BatchNorm2d(2 * dim), nn.Conv2d(2 * dim, ffn_channels, 1),
            nn.Hardswish(), nn.Dropout(0.),
            nn.Conv2d(ffn_channels, 2 * dim, 1),
            nn.Dropout(dropout))
        self.ca = ChannelAttention(2 * dim)

    @staticmethod
    def _resize(param, size):
        shape = (size, 1) if param.shape[-1] == 1 else (1, size)
        if torch.onnx.is_in_onnx_export():
            # The same 1-D linear interpolation as a constant matrix: the
            # exported convs then get kernels of a known shape (a Resize
            # output's shape is unknown to the ONNX exporter).
            length = max(param.shape[2:])
            matrix = _interp_matrix(length, size).to(param)
            resized = param.reshape(-1, length) @ matrix.t()
            return resized.reshape(*param.shape[:2], *shape)
        return F.interpolate(param, shape, mode='bilinear', align_corners=True)

    def forward(self, x):
        size = int(x.shape[2])  # a constant when traced (fixed sizes)
        k = {n: self._resize(getattr(self, f'meta_kernel_{n}'), size)
             for n in ('1_H', '1_W', '2_H', '2_W')}
        r1, r2 = x1, x2 = torch.chunk(x, 2, 1)
        if self.use_pe:
            pe = {n: self._resize(getattr(self, f'meta_pe_{n}'), size)
                  for n in ('1_H', '1_W', '2_H', '2_W')}
            x1, x2 = x1 + pe['1_H'], x2 + pe['1_W']
        x1 = circular_conv(self.pre_Norm_1(x1), k['1_H'], 2)
        x2 = circular_conv(self.pre_Norm_2(x2), k['1_W'], 3)
        if self.use_pe:  # crossed over, as in the authors' code
            x1, x2 = x1 + pe['2_W'], x2 + pe['2_H']
        x1 = circular_conv(x1, k['2_W'], 3)
        x2 = circular_conv(x2, k['2_H'], 2)
        y = torch.cat([r1 + x1, r2 + x2], 1)
        return y + self.ca(self.ffn(y))


class OuterFrame(nn.Module):
    """EdgeFormer's ``outer_frame_v1``: grouped 3x3 conv to the GCC width,
    a 1x1 mix, the GCC blocks (positional embeddings in the first only) and
    a BN, a grouped 1x1 conv back, then a 3x3 fusion of [global, input]."""

    def __init__(self, channels, gcc_channels, num_blocks, meta_kernel_size,
                 ffn_channels, dropout=0.1):
        super().__init__()
        groups = math.gcd(channels, gcc_channels)
        self.dim_adaptive = nn.Sequential(
            ConvLayer(channels, gcc_channels, 3, groups=groups),
            ConvLayer(gcc_channels, gcc_channels, 1, norm=False, act=None))
        self.spatial_global_rep = nn.Sequential(*[
            GCCBlock(gcc_channels // 2, meta_kernel_size, ffn_channels,
                     use_pe=i == 0, dropout=dropout)
            for i in range(num_blocks)
        ], nn.BatchNorm2d(gcc_channels))
        self.channel_adaptive = ConvLayer(gcc_channels, channels, 1,
                                          groups=groups)
        self.local_global_fusion = ConvLayer(2 * channels, channels, 3)

    def forward(self, x):
        y = self.spatial_global_rep(self.dim_adaptive(x))
        return self.local_global_fusion(
            torch.cat([self.channel_adaptive(y), x], 1))
