"""ml-cvnets' DeepLabv3 head (cvnets-v0.1 ``modules/aspp_block.py`` and
``segmentation/heads/deeplabv3.py``, as trained for EdgeFormer and the
EdgeNeXt paper) in mmseg."""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from mmedgenext.registry import MODELS
from ..layers.cvnets_blocks import ConvLayer


class ASPPPooling(nn.Module):

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.aspp_pool = nn.Sequential(OrderedDict(
            global_pool=nn.AdaptiveAvgPool2d(1),
            conv_1x1=ConvLayer(in_channels, out_channels, 1, act=nn.ReLU)))

    def forward(self, x):
        return F.interpolate(self.aspp_pool(x), x.shape[2:], mode='bilinear',
                             align_corners=False)


class ASPP(nn.Module):
    """Branches in ml-cvnets' order [1x1, atrous..., image pool], a 1x1
    projection and dropout (unlike mmseg's ASPPHead: pool first, 3x3
    bottleneck)."""

    def __init__(self, in_channels, out_channels, dilations, dropout):
        super().__init__()
        self.convs = nn.ModuleList(
            [ConvLayer(in_channels, out_channels, 1, act=nn.ReLU)] + [
                ConvLayer(in_channels, out_channels, 3, dilation=d,
                          act=nn.ReLU) for d in dilations
            ] + [ASPPPooling(in_channels, out_channels)])
        self.project = ConvLayer((len(dilations) + 2) * out_channels,
                                 out_channels, 1, act=nn.ReLU)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.project(
            torch.cat([conv(x) for conv in self.convs], 1)))


@MODELS.register_module()
class CvnetsASPPHead(BaseDecodeHead):
    """ml-cvnets' DeepLabv3 head: ``aspp`` then mmseg's ``dropout``
    (Dropout2d, ``dropout_ratio``) and ``conv_seg``, which are ml-cvnets'
    classifier. mmseg upsamples the logits to the input, bilinearly, as
    ml-cvnets' x16 ``UpSample`` does.

    Args:
        dilations (Sequence[int]): Atrous rates. Defaults to (6, 12, 18).
        aspp_dropout (float): Dropout after the projection. Defaults to 0.1.
    """

    def __init__(self, dilations=(6, 12, 18), aspp_dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.aspp = ASPP(self.in_channels, self.channels, dilations,
                         aspp_dropout)

    def forward(self, inputs):
        return self.cls_seg(self.aspp(self._transform_inputs(inputs)))
