"""Loading any EdgeNeXt checkpoint into the backbone, with one report."""
from collections import defaultdict

from mmengine.logging import print_log

from .convert import (CONVERTED_ON_LOAD, convert_state_dict, detect_format,
                      extract_state_dict, to_classifier_layout)
from .io import read_checkpoint, resolve_checkpoint


def _summarise(keys, limit=12):
    """'stages.0.0.{bias,weight}'-style groups, at most ``limit`` of them."""
    groups = defaultdict(list)
    for key in keys:
        module, _, name = key.rpartition('.')
        groups[module].append(name)
    parts = [
        f'{m}.{{{",".join(sorted(n))}}}' if len(n) > 1 else f'{m}.{n[0]}'
        for m, n in groups.items()
    ]
    more = f' ... and {len(parts) - limit} more' if len(parts) > limit else ''
    return ', '.join(parts[:limit]) + more


def _under_prefix(state, prefix, path):
    """The weights under ``prefix``, without it, and the format of a file
    the Runner's loader converts (official, timm, MindCV): such a file is
    taken as that classifier checkpoint (``backbone.*``, ``head.fc.*``), as
    mmengine's ``PretrainedInit`` with a prefix reads it."""
    fmt = None
    if not any(k.startswith(prefix) for k in state):
        try:
            fmt = detect_format(state)
        except ValueError:
            pass
        if fmt in CONVERTED_ON_LOAD:
            state = to_classifier_layout(state)[0]
        else:
            fmt = None
    state = {k[len(prefix):]: v for k, v in state.items()
             if k.startswith(prefix)}
    if not state:
        raise ValueError(
            f'No key of {path} starts with prefix={prefix!r}; check the '
            'prefix (e.g. \'backbone.\') or drop it')
    return state, fmt


def load_pretrained(model, checkpoint, prefix=None, map_location='cpu',
                    checkpoint_key='auto', trust_checkpoint=False):
    """Load ``checkpoint`` (path, URL or model-zoo name) into an EdgeNeXt
    backbone, converting official, timm, mmpretrain, MindCV and mmedgenext
    keys.

    ``prefix`` (as mmengine's ``PretrainedInit``) keeps only the keys that
    start with it, without it: ``'backbone.'`` takes the backbone of a
    classifier, detector or segmentor checkpoint (an official, timm or
    MindCV file counts as the classifier checkpoint the Runner reads).

    Raises on shape mismatches (naming the key and both shapes); logs missing
    and unexpected keys in one report. Returns that report as a dict.
    """
    path = resolve_checkpoint(checkpoint)
    state = extract_state_dict(
        read_checkpoint(path, trust_checkpoint, map_location), checkpoint_key)
    source_fmt = None
    if prefix:
        state, source_fmt = _under_prefix(state, prefix, path)
    state, fmt, dropped = convert_state_dict(state)
    fmt = source_fmt or fmt
    classifier = [k for k in state if k.startswith('head.')]
    state = {k: v for k, v in state.items() if not k.startswith('head.')}

    own = model.state_dict()
    mismatched = [(k, tuple(v.shape), tuple(own[k].shape))
                  for k, v in state.items()
                  if k in own and v.shape != own[k].shape]
    if mismatched:
        lines = '\n'.join(f'  {k}: checkpoint {c}, model {m}'
                          for k, c, m in mismatched[:10])
        raise ValueError(
            f'{path} ({fmt} format) does not fit this EdgeNeXt '
            f'(arch={model.arch!r}); {len(mismatched)} shape mismatches:\n'
            f'{lines}\nPick the arch the checkpoint was trained with.')

    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    model.load_state_dict(
        {k: v for k, v in state.items() if k in own}, strict=False)

    report = dict(path=path, format=fmt, loaded=len(own) - len(missing),
                  total=len(own), missing=missing, unexpected=unexpected,
                  ignored=classifier + dropped)
    lines = [f'Loaded EdgeNeXt weights from {path} ({fmt} format): '
             f'{report["loaded"]}/{len(own)} tensors.']
    if missing:
        lines.append('  missing in checkpoint, left as initialised: ' +
                     _summarise(missing))
    if unexpected:
        lines.append('  unexpected in checkpoint, ignored: ' +
                     _summarise(unexpected))
    if report['ignored']:
        lines.append('  not backbone weights (classifier, neck, heads), '
                     'ignored: ' + _summarise(report['ignored']))
    print_log('\n'.join(lines), logger='current')
    return report
