"""The extra SSD levels of ml-cvnets' SSDLite (cvnets-v0.1
``models/detection/ssd.py``, used by EdgeFormer and the EdgeNeXt paper)."""
import torch.nn as nn
from mmengine.model import BaseModule

from mmedgenext.registry import MODELS
from ..layers.cvnets_blocks import ConvLayer, SeparableConv


@MODELS.register_module()
class CvnetsSSDNeck(BaseModule):
    """Passes the backbone's stride-16 and stride-32 maps through and adds
    stride-2 separable-conv levels (``os_64``, ``os_128``, ...) and a global
    level (``os_-1``: average pool, then a 1x1 conv with ReLU and no norm),
    each computed from the previous one.

    Args:
        in_channels (int): Channels of the last backbone map.
        out_channels (Sequence[int]): Channels of the added levels; the last
            is the global level. Defaults to ml-cvnets' (256, 128, 128, 64).
    """

    def __init__(self, in_channels, out_channels=(256, 128, 128, 64),
                 init_cfg=dict(type='Xavier', layer='Conv2d',
                               distribution='uniform')):
        super().__init__(init_cfg=init_cfg)
        for i, out in enumerate(out_channels[:-1]):
            # ml-cvnets names the levels by output stride, from 64 on.
            self.add_module(f'os_{64 * 2**i}', SeparableConv(
                in_channels, out, 3, stride=2, act=nn.ReLU))
            in_channels = out
        self.add_module('os_-1', nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvLayer(in_channels, out_channels[-1], 1, norm=False,
                      act=nn.ReLU)))

    def forward(self, inputs):
        outs = list(inputs)
        x = outs[-1]
        for layer in self.children():
            x = layer(x)
            outs.append(x)
        return tuple(outs)
