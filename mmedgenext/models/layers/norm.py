"""Norm layers of EdgeNeXt, built from configs (``norm_cfg``)."""
import inspect

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.registry import MODELS as MMENGINE_MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from mmedgenext.registry import MODELS


@MODELS.register_module('LN2d')
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map.

    Computed as a channels-last ``F.layer_norm`` between two permutes, which is
    free when the map is stored channels-last (as the backbone keeps it) and
    gives the same values as the reference's hand-written channels-first norm.
    With ``channels_first`` set it is written as that norm, means over the
    channel axis: the graph form of an export for a runtime that runs it
    there in the convolutions' own layout (OpenVINO), where the two permutes
    would become copies (:data:`mmedgenext.deploy.export.CHANNELS_FIRST_NORM`).
    """
    channels_first = False

    def forward(self, x):
        if self.channels_first:
            mean = x.mean(1, keepdim=True)
            centred = x - mean
            var = centred.pow(2).mean(1, keepdim=True)
            x = centred / torch.sqrt(var + self.eps)
            if self.weight is None:
                return x
            return x * self.weight[:, None, None] + self.bias[:, None, None]
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


def norm_class(norm_cfg):
    """The class ``norm_cfg['type']`` names: this plugin's ``LN2d``, else
    mmcv's layers (``BN``, ``SyncBN``, ``GN``...) in mmengine's root
    registry, whatever the default scope of the config being built.

    Not looked up in the plugin's registry: its first lookup imports every
    model module (its ``locations``), and with them mmdet, mmseg and
    mmpretrain, which building a backbone does not need.
    """
    norm_type = norm_cfg['type']
    if inspect.isclass(norm_type):
        return norm_type
    cls = (LayerNorm2d if norm_type == 'LN2d' else
           MMENGINE_MODELS.get(norm_type))
    if cls is None or cls is nn.LayerNorm:  # 'LN' normalises the last dim
        raise ValueError(
            f'Unknown norm_cfg type {norm_type!r}; EdgeNeXt takes a norm of '
            "NCHW maps, e.g. dict(type='LN2d', eps=1e-6) or dict(type='BN')")
    return cls


def is_batch_norm(norm_cfg):
    """Whether ``norm_cfg`` builds a BatchNorm (BN, SyncBN): the reference's
    BN/Hardswish variants differ from the LayerNorm ones in structure too
    (conv biases, where the SDTA and pooled-feature norms sit)."""
    return issubclass(norm_class(norm_cfg), _BatchNorm)


def build_norm(norm_cfg, channels):
    """mmcv's ``build_norm_layer`` with the type resolved by
    :func:`norm_class`; returns the layer only."""
    return build_norm_layer(
        dict(norm_cfg, type=norm_class(norm_cfg)), channels)[1]
