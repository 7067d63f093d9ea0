"""mmengine's Runner reads local and http(s) checkpoints the plugin's way.

mmengine 0.10.7 loads them with a bare ``torch.load``, which on torch >= 2.6
means ``weights_only=True`` without an allow-list: resuming from the
Runner's own checkpoints fails (they hold logged ``HistoryBuffer`` scalars;
upstream open-mmlab/mmengine#1655, fix proposed in #1650),
and the authors' EdgeNeXt files (training ``args``, their key names) cannot
be given to ``load_from`` or ``tools/test.py``. Registered in place of
mmengine's loaders, this reads every file through :func:`read_checkpoint`
(allow-listed, code never runs) and hands the authors', timm's and MindCV's
(MindSpore ``.ckpt``) EdgeNeXt files to the Runner as classifier
checkpoints, and the EdgeFormer authors' ml-cvnets files as the matching
classifier, SSD or DeepLabv3 model's. Paths, URLs and model-zoo names are
all accepted.
"""
from mmengine.runner import CheckpointLoader

from .convert import (CONVERTED_ON_LOAD, detect_format, extract_state_dict,
                      to_classifier_layout)
from .cvnets import convert_cvnets_state_dict, is_cvnets_edgeformer
from .io import read_checkpoint, resolve_checkpoint


def load_from_mmedgenext(filename, map_location=None):
    """The Runner's reader of local and http(s) files. mmengine logs
    ``Loads checkpoint by {name[10:]} backend``: "mmedgenext" here."""
    checkpoint = read_checkpoint(
        resolve_checkpoint(filename), map_location=map_location or 'cpu')
    try:
        state = extract_state_dict(checkpoint)
    except (KeyError, ValueError):  # no weights found: as it is
        return checkpoint
    if is_cvnets_edgeformer(state):
        converted, task = convert_cvnets_state_dict(state)
        return dict(state_dict=converted,
                    meta=dict(source_format=f'cvnets_{task}'))
    try:
        fmt = detect_format(state)
    except ValueError:  # not an EdgeNeXt checkpoint: as it is
        return checkpoint
    if fmt not in CONVERTED_ON_LOAD:
        return checkpoint
    converted, fmt, _ = to_classifier_layout(state)
    return dict(state_dict=converted, meta=dict(source_format=fmt))


CheckpointLoader.register_scheme(
    prefixes=('', 'http://', 'https://'), loader=load_from_mmedgenext,
    force=True)
