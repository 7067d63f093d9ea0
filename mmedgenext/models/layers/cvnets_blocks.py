"""General ml-cvnets blocks that EdgeFormer and ml-cvnets' SSDLite /
DeepLabv3 heads share: ``ConvLayer``, ``SeparableConv`` and the MobileNetV2
``InvertedResidual``.

Module and parameter names are ml-cvnets' (``block.conv``, ``block.norm``,
``dw_conv``, ``exp_1x1`` ...), so the authors' released state dicts map onto
these modules by prefix alone.
"""
from collections import OrderedDict

import torch.nn as nn


class ConvLayer(nn.Module):
    """ml-cvnets' ``ConvLayer``: conv (``same`` padding, no bias by default),
    then optional BatchNorm and activation, kept in ``self.block``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 groups=1, dilation=1, bias=False, norm=True, act=nn.SiLU):
        super().__init__()
        layers = OrderedDict(conv=nn.Conv2d(
            in_channels, out_channels, kernel_size, stride,
            padding=(kernel_size - 1) // 2 * dilation, dilation=dilation,
            groups=groups, bias=bias))
        if norm:
            layers['norm'] = nn.BatchNorm2d(out_channels)
        if act is not None:
            layers['act'] = act()
        self.block = nn.Sequential(layers)

    def forward(self, x):
        return self.block(x)


class SeparableConv(nn.Module):
    """ml-cvnets' ``SeparableConv``: depthwise conv + BN with no activation,
    then a pointwise ``ConvLayer``."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1,
                 bias=False, norm=True, act=nn.ReLU):
        super().__init__()
        self.dw_conv = ConvLayer(in_channels, in_channels, kernel_size,
                                 stride, groups=in_channels, act=None)
        self.pw_conv = ConvLayer(in_channels, out_channels, 1, bias=bias,
                                 norm=norm, act=act)

    def forward(self, x):
        return self.pw_conv(self.dw_conv(x))


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class InvertedResidual(nn.Module):
    """MobileNetV2 block as ml-cvnets builds it (SiLU, residual only when
    the shape is kept)."""

    def __init__(self, in_channels, out_channels, stride=1, expand_ratio=4,
                 dilation=1):
        super().__init__()
        hidden = make_divisible(round(in_channels * expand_ratio))
        layers = OrderedDict()
        if expand_ratio != 1:
            layers['exp_1x1'] = ConvLayer(in_channels, hidden, 1)
        layers['conv_3x3'] = ConvLayer(hidden, hidden, 3, stride,
                                       groups=hidden, dilation=dilation)
        layers['red_1x1'] = ConvLayer(hidden, out_channels, 1, act=None)
        self.block = nn.Sequential(layers)
        self.use_res_connect = stride == 1 and in_channels == out_channels

    def forward(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)
