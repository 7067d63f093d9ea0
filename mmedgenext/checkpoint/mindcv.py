"""MindCV's EdgeNeXt weights (mindspore-lab/mindcv,
``mindcv/models/edgenext.py``) out of a MindSpore checkpoint, under MindCV's
attribute paths, which :func:`convert_state_dict` then maps ('mindcv').

MindSpore writes each parameter under its ``name``. In MindCV's released
files that is the full attribute path (``downsample_layers.0.0.weight``,
``stages.3.1.xca.qkv.weight``); MindSpore 2.x names the parameters of cells
kept in lists without their prefixes (``0.0.weight``, ``0.1.0.gamma``,
``0.3.1.xca.qkv.weight``), so those are matched by position against
MindCV's parameter order, every shape and last name part checked. A
training file (MindCV's ``TrainStep``) also holds ``ema.``-prefixed copies,
optimizer moments (``adam_m.``, ``adam_v.``) and scalars: the weights and
their EMA come back as ``model`` and ``model_ema``, EMA first as MindCV's
validation evaluates with the recipes' ``ema: True``; the rest is left out.
"""
import math
import re
from collections import OrderedDict

from .mindspore_ckpt import read_mindspore_checkpoint, to_torch

MINDCV_ARCHS = ('xx_small', 'x_small', 'small', 'base')
# Names of the network in either form; other tags are optimizer state.
_NETWORK = re.compile(r'^(downsample_layers\.|stages\.|\d+\.|'
                      r'norm\.(gamma|beta)$|head\.(weight|bias)$)')
_EMA = 'ema.'
_POS_EMBD_HIDDEN = 32  # PositionalEncodingFourier(hidden_dim=32)


def mindcv_layout(arch, num_classes=1000):
    """``[(name, shape)]`` of MindCV's ``edgenext_<arch>`` in MindCV's
    parameter order: a cell's own parameters (layer scales) before those
    of its sub-cells, sub-cells in the order they are assigned."""
    from mmedgenext.models.backbones.edgenext import ARCH_SETTINGS
    s = ARCH_SETTINGS[arch]
    dims, heads = s['channels'], s['num_heads']
    if isinstance(heads, int):
        heads = (heads, ) * 4
    layout = []

    def param(name, *shape):
        layout.append((name, shape))

    def conv(name, cout, cin, k):
        param(f'{name}.weight', cout, cin, k, k)
        param(f'{name}.bias', cout)

    def dense(name, cout, cin):
        param(f'{name}.weight', cout, cin)
        param(f'{name}.bias', cout)

    def layer_norm(name, c):
        param(f'{name}.gamma', c)
        param(f'{name}.beta', c)

    conv('downsample_layers.0.0', dims[0], 3, 4)
    layer_norm('downsample_layers.0.1', dims[0])
    for i in range(1, 4):
        layer_norm(f'downsample_layers.{i}.0', dims[i - 1])
        conv(f'downsample_layers.{i}.1', dims[i], dims[i - 1], 2)
    for i, (depth, c) in enumerate(zip(s['depths'], dims)):
        for j in range(depth):
            block = f'stages.{i}.{j}'
            hidden = s['expan_ratio'] * c
            if j >= depth - s['global_blocks'][i]:  # SDTA encoder
                param(f'{block}.gamma_xca', c)
                param(f'{block}.gamma', c)
                scales = s['d2_scales'][i]
                width = math.ceil(c / scales)
                for k in range(max(scales - 1, 1)):
                    conv(f'{block}.convs.{k}', width, 1, 3)
                if s['use_pos_embd'][i]:
                    conv(f'{block}.pos_embd.token_projection', c,
                         2 * _POS_EMBD_HIDDEN, 1)
                layer_norm(f'{block}.norm_xca', c)
                param(f'{block}.xca.temperature', heads[i], 1, 1)
                dense(f'{block}.xca.qkv', 3 * c, c)
                dense(f'{block}.xca.proj', c, c)
            else:  # conv encoder
                param(f'{block}.gamma1', c)
                conv(f'{block}.dwconv', c, 1, s['kernel_sizes'][i])
            layer_norm(f'{block}.norm', c)
            dense(f'{block}.pwconv1', hidden, c)
            dense(f'{block}.pwconv2', c, hidden)
    layer_norm('norm', dims[3])
    dense('head', num_classes, dims[3])
    return layout


def _describe(tensors, limit=3):
    return ', '.join(f'{t.tag} {list(t.shape)}' for t in tensors[:limit])


def _not_edgenext(path, tensors):
    return ValueError(
        f'{path} is a MindSpore checkpoint, but not of MindCV\'s EdgeNeXt '
        f'(edgenext_{"/".join(MINDCV_ARCHS)}): it starts with '
        f'{_describe(tensors) or "no tensor"}')


def _arch_of(path, network, everything):
    """MindCV's EdgeNeXt whose stem conv fits the checkpoint's."""
    stem = next((t for t in network
                 if t.tag == 'downsample_layers.0.0.weight'), network[0])
    for arch in MINDCV_ARCHS:
        if stem.shape == mindcv_layout(arch)[0][1]:
            return arch
    raise _not_edgenext(path, everything)


def _by_name(path, arch, network, layout):
    got = {t.tag: t for t in network}
    if len(got) != len(network):
        raise ValueError(f'{path}: a parameter name appears twice')
    expected = OrderedDict(layout)
    missing = [n for n in expected if n not in got]
    unknown = [n for n in got if n not in expected]
    problems = [f'{len(names)} {what} ({", ".join(names[:3])})'
                for names, what in ((missing, 'of its tensors missing'),
                                    (unknown, 'names it does not have'))
                if names]
    if problems:
        raise ValueError(
            f'{path} does not fit MindCV\'s edgenext_{arch}: '
            f'{", ".join(problems)}; truncated file or another network')
    return [(n, got[n]) for n in expected]


def _by_position(path, arch, network, layout):
    if len(network) != len(layout):
        cut = (f'; it ends at {network[-1].tag!r}, MindCV\'s '
               f'{layout[len(network) - 1][0]}') \
            if len(network) < len(layout) else ''
        raise ValueError(
            f'{path} holds {len(network)} parameters, MindCV\'s '
            f'edgenext_{arch} has {len(layout)}{cut}; truncated file or '
            'another network')
    for i, (t, (name, _)) in enumerate(zip(network, layout)):
        if t.tag.rsplit('.', 1)[-1] != name.rsplit('.', 1)[-1]:
            raise ValueError(
                f'{path}: parameter {i} is {t.tag!r}, MindCV\'s '
                f'edgenext_{arch} has {name} there')
    return list(zip((name for name, _ in layout), network))


def _weights(path, arch, network):
    """Check ``network`` against MindCV's ``edgenext_<arch>``; return an
    OrderedDict of MindCV names to torch tensors."""
    head = [t for t in network if t.tag == 'head.weight']
    layout = mindcv_layout(arch, head[0].shape[0] if head else 1000)
    full = any(t.tag.startswith(('downsample_layers.', 'stages.'))
               for t in network)
    pairs = (_by_name if full else _by_position)(path, arch, network, layout)
    for (name, t), (_, shape) in zip(pairs, layout):
        if t.shape != shape:
            raise ValueError(
                f'{path}: tensor {t.tag!r} has shape {list(t.shape)}, '
                f'MindCV\'s edgenext_{arch} {name} is {list(shape)}')
    return OrderedDict((name, to_torch(t)) for name, t in pairs)


def read_mindcv_checkpoint(path):
    """MindCV's EdgeNeXt weights in the MindSpore checkpoint ``path``,
    under MindCV's full names: an OrderedDict, or ``dict(model=...,
    model_ema=...)`` for a training file with EMA weights.

    Raises ValueError, in one line, for a file of another network, a file
    that lacks tensors (e.g. truncated) or one whose tensors do not fit.
    """
    tensors = read_mindspore_checkpoint(path)
    network, ema = [], []
    for t in tensors:
        if _NETWORK.match(t.tag):
            network.append(t)
        elif t.tag.startswith(_EMA) and _NETWORK.match(t.tag[len(_EMA):]):
            ema.append(t._replace(tag=t.tag[len(_EMA):]))
    if not network:
        raise _not_edgenext(path, tensors)
    arch = _arch_of(path, network, tensors)
    weights = _weights(path, arch, network)
    if not ema:
        return weights
    return dict(model=weights, model_ema=_weights(path, arch, ema))
