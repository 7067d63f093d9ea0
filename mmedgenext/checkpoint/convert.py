"""Key conversion from every EdgeNeXt checkpoint flavour to this plugin's.

The plugin's names are the authors' (``downsample_layers``, ``stages.i.j``,
``dwconv``, ``xca``...), with the classification norm called ``norm3`` and
the classifier ``head.{weight,bias}``.
"""
import re
from collections import OrderedDict

import torch

# (pattern, replacement) applied in order, per source format.
_TIMM_RULES = [
    (r'^stem\.', 'downsample_layers.0.'),
    (r'^stages\.(\d+)\.downsample\.', r'downsample_layers.\1.'),
    (r'^stages\.(\d+)\.blocks\.', r'stages.\1.'),
    (r'\.conv_dw\.', '.dwconv.'),
    (r'\.mlp\.fc([12])\.', r'.pwconv\1.'),
    (r'^head\.norm\.', 'norm3.'),
    (r'^norm_pre\.', 'norm3.'),
    (r'^head\.fc\.', 'head.'),
]
_MMPRETRAIN_RULES = [
    (r'\.depthwise_conv\.', '.dwconv.'),
    (r'\.pointwise_conv([12])\.', r'.pwconv\1.'),
    (r'\.conv_modules\.', '.convs.'),
    (r'\.pos_embed\.proj\.', '.pos_embd.token_projection.'),
    (r'\.norm_csa\.', '.norm_xca.'),
    (r'\.gamma_csa$', '.gamma_xca'),
    (r'\.csa\.scale$', '.xca.temperature'),
    (r'\.csa\.', '.xca.'),
    (r'^head\.fc\.', 'head.'),
]
_OFFICIAL_RULES = [(r'^norm\.', 'norm3.')]
# MindCV (mindcv/models/edgenext.py): LayerNorms (the downsampling layers'
# and every norm*) hold gamma/beta, the conv encoder's layer scale is
# gamma1; the SDTA's gamma/gamma_xca are the official names.
_MINDCV_NORM = r'^(downsample_layers\.\d\.[01]|(?:.*\.)?norm(?:_xca)?)\.'
_MINDCV_RULES = [
    (_MINDCV_NORM + r'gamma$', r'\1.weight'),
    (_MINDCV_NORM + r'beta$', r'\1.bias'),
    (r'\.gamma1$', '.gamma'),
    *_OFFICIAL_RULES,
]
_MMEDGENEXT_RULES = [(r'^head\.fc\.', 'head.')]

_RULES = dict(
    official=_OFFICIAL_RULES,
    timm=_TIMM_RULES,
    mmpretrain=_MMPRETRAIN_RULES,
    mindcv=_MINDCV_RULES,
    mmedgenext=_MMEDGENEXT_RULES)

# Layouts no OpenMMLab model consumes as they are, which the Runner's loader
# hands on as classifier checkpoints; the plugin's own and mmpretrain's
# checkpoints already fit the models they were trained with.
CONVERTED_ON_LOAD = ('official', 'timm', 'mindcv')

# Containers that hold the weights, in order of preference when several are
# present: the reference's evaluation (main.py --eval) reads 'model_ema' from
# its release files and 'state_dict' from the USI ones, so the published
# accuracies are those weights; pass checkpoint_key='model' for the raw ones.
_STATE_KEYS = ('state_dict', 'model_ema', 'model')


def extract_state_dict(checkpoint, checkpoint_key='auto'):
    """Pick the weights out of a loaded checkpoint object."""
    if not isinstance(checkpoint, dict):
        raise ValueError(
            f'Expected a dict of weights, got {type(checkpoint).__name__}')
    if checkpoint_key != 'auto':
        if checkpoint_key not in checkpoint:
            raise KeyError(f'checkpoint_key={checkpoint_key!r} not in the '
                           f'checkpoint; it has {sorted(checkpoint)}')
        return checkpoint[checkpoint_key]
    for key in _STATE_KEYS:
        if isinstance(checkpoint.get(key), dict):
            return checkpoint[key]
    if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    raise ValueError(
        f'No weights found: the checkpoint has keys {sorted(checkpoint)}, '
        f'none of {_STATE_KEYS} and not a plain state dict')


def detect_format(state_dict):
    """Name the key convention of an EdgeNeXt state dict."""
    keys = list(state_dict)
    if any(k.startswith('stem.') or '.blocks.' in k for k in keys):
        return 'timm'
    if any('.depthwise_conv.' in k or '.csa.' in k for k in keys):
        return 'mmpretrain'
    if any(k.startswith('backbone.downsample_layers.') for k in keys):
        return 'mmedgenext'
    if 'downsample_layers.0.1.gamma' in state_dict:  # the stem's LayerNorm
        return 'mindcv'
    if any(k.startswith('downsample_layers.0.0.') for k in keys):
        return 'official' if any(k.startswith('norm.') for k in keys) \
            else 'mmedgenext'
    raise ValueError(
        'Unrecognised checkpoint: it holds no EdgeNeXt weights in the '
        'official, timm, mmpretrain, MindCV or mmedgenext layout (first '
        f'keys: {keys[:5]})')


def convert_state_dict(state_dict):
    """Return ``(converted, fmt, dropped)``: plugin-named weights, the
    detected format and the keys that belong to no backbone or classifier
    (e.g. a detector's neck and head)."""
    fmt = detect_format(state_dict)
    converted, dropped = OrderedDict(), []
    for key, value in state_dict.items():
        if key.startswith('backbone.'):
            key = key[len('backbone.'):]
        elif not (key.startswith(('head.', 'stem.', 'stages.', 'norm',
                                  'downsample_layers.'))):
            dropped.append(key)
            continue
        for pattern, repl in _RULES[fmt]:
            key = re.sub(pattern, repl, key)
        converted[key] = value
    return converted, fmt, dropped


def to_classifier_layout(state_dict):
    """Plugin-named weights laid out as an mmpretrain ``ImageClassifier``
    with this backbone and a ``LinearClsHead``: ``backbone.*``, ``head.fc.*``.
    Returns ``(converted, fmt, dropped)`` as :func:`convert_state_dict`."""
    converted, fmt, dropped = convert_state_dict(state_dict)
    return OrderedDict(
        ('head.fc.' + k[5:] if k.startswith('head.') else 'backbone.' + k, v)
        for k, v in converted.items()), fmt, dropped
