"""EdgeFormer checkpoints as the authors release them (ml-cvnets' bare state
dicts: ``checkpoint_ema_avg.pt`` of hkzhang-git/ParC-Net) laid out as the
matching mmedgenext model: ``backbone.*`` and ``head.fc.*`` (mmpretrain
classifier), ``backbone.*``, ``neck.*`` and ``bbox_head.*`` (SSDLite with
:class:`CvnetsSSDNeck` / :class:`CvnetsSSDHead`), ``backbone.*`` and
``decode_head.*`` (DeepLabv3 with :class:`CvnetsASPPHead`).

ml-cvnets' EdgeFormer registers layer_5's MobileNetV2 block a second time as
``residual``, so its state dicts may repeat it under ``residual.*``; those
keys are checked against ``layer_5.0.*`` and dropped.
"""
import re
from collections import OrderedDict

import torch

_ENCODER = ('conv_1.', 'layer_1.', 'layer_2.', 'layer_3.', 'layer_4.',
            'layer_5.', 'conv_1x1_exp.')
_RULES = [
    (r'^encoder\.', 'backbone.'),
    (r'^(conv_1|layer_\d|conv_1x1_exp)\.', r'backbone.\1.'),
    (r'^classifier\.fc\.', 'head.fc.'),
    (r'^extra_layers\.', 'neck.'),
    (r'^ssd_heads\.', 'bbox_head.ssd_heads.'),
    (r'^seg_head\.aspp\.aspp_layer\.', 'decode_head.aspp.'),
    (r'^seg_head\.classifier\.classifier\.block\.conv\.',
     'decode_head.conv_seg.'),
]


def is_cvnets_edgeformer(state_dict):
    """Whether a state dict is an ml-cvnets EdgeFormer (bare or as the
    ``encoder`` of a detector or segmentor)."""
    return any(re.match(r'^(encoder\.)?layer_\d\.1\.spatial_global_rep\.', k)
               for k in state_dict)


def cvnets_task(state_dict):
    if any(k.startswith('ssd_heads.') for k in state_dict):
        return 'detection'
    if any(k.startswith('seg_head.') for k in state_dict):
        return 'segmentation'
    if 'classifier.fc.weight' in state_dict:
        return 'classification'
    return 'backbone'


def convert_cvnets_state_dict(state_dict):
    """Return ``(converted, task)`` for an ml-cvnets EdgeFormer state dict.

    Raises ValueError on keys no mmedgenext model holds, or on ``residual.*``
    copies that differ from ``layer_5.0.*``.
    """
    converted, unknown = OrderedDict(), []
    for key, value in state_dict.items():
        dup = re.match(r'^(encoder\.)?residual\.(.*)$', key)
        if dup:
            twin = f'{dup.group(1) or ""}layer_5.0.{dup.group(2)}'
            if twin in state_dict and not torch.equal(state_dict[twin], value):
                raise ValueError(
                    f'{key} differs from {twin}: in ml-cvnets EdgeFormer the '
                    f'two are one module, so this file is inconsistent')
            continue
        new = key
        for pattern, repl in _RULES:
            new = re.sub(pattern, repl, new)
        if new == key:
            unknown.append(key)
        converted[new] = value
    if unknown:
        raise ValueError(
            f'Not an ml-cvnets EdgeFormer/SSD/DeepLabv3 key layout: '
            f'{unknown[:5]} ({len(unknown)} keys) map to no mmedgenext model')
    return converted, cvnets_task(state_dict)
