"""The Runner's reader of local and http(s) checkpoints.

Registered in place of mmengine's loaders for '', http:// and https://, it
converts the files the plugin recognises and leaves every other file to
mmengine:

- EdgeNeXt files of the authors, timm and MindCV (MindSpore ``.ckpt``) come
  to the Runner as classifier checkpoints, and the EdgeFormer authors'
  ml-cvnets files as the matching classifier, SSD or DeepLabv3 model's, so
  that ``load_from`` and ``tools/test.py`` take them as released;
- files the allow-listed reader :func:`read_checkpoint` admits (plain
  weights, the Runner's own checkpoints) come as they are. On torch >= 2.6
  this is what lets the Runner resume from its own checkpoints, which
  mmengine 0.10.7's bare ``torch.load`` refuses there (their logged
  ``HistoryBuffer`` scalars; upstream open-mmlab/mmengine#1655);
- any other file is read by mmengine's own loader, as it would be without
  the plugin on that torch.

The plugin's own entry points (its tools, :func:`mmedgenext.apis.
build_model`, model-zoo names) read inside :func:`refuse_unsafe_checkpoints`,
where a file that would run code is refused instead of handed on.
"""
import contextlib
import contextvars

from mmengine.runner import CheckpointLoader

from .convert import (CONVERTED_ON_LOAD, detect_format, extract_state_dict,
                      to_classifier_layout)
from .cvnets import convert_cvnets_state_dict, is_cvnets_edgeformer
from .io import UnsafeCheckpointError, read_checkpoint, resolve_checkpoint
from .zoo import MODEL_ZOO

_PREFIXES = ('', 'http://', 'https://')
_MMENGINE_LOADERS = {p: CheckpointLoader._schemes[p] for p in _PREFIXES}
_refusing = contextvars.ContextVar('refuse_unsafe_checkpoints',
                                   default=False)


@contextlib.contextmanager
def refuse_unsafe_checkpoints():
    """Within this context the Runner's loader refuses a checkpoint that
    would run code (:class:`UnsafeCheckpointError`) instead of handing it
    to mmengine's loader."""
    token = _refusing.set(True)
    try:
        yield
    finally:
        _refusing.reset(token)


def _as_runner_checkpoint(checkpoint):
    """A read checkpoint as the Runner needs it: the recognised EdgeNeXt
    and EdgeFormer layouts converted, anything else unchanged."""
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


def load_from_mmedgenext(filename, map_location=None):
    """mmengine logs ``Loads checkpoint by {name[10:]} backend``:
    "mmedgenext" here."""
    path = resolve_checkpoint(filename)
    try:
        checkpoint = read_checkpoint(path, map_location=map_location or 'cpu')
    except UnsafeCheckpointError:
        if _refusing.get() or filename in MODEL_ZOO:
            raise
        prefix = next(p for p in reversed(_PREFIXES)
                      if filename.startswith(p))
        return _MMENGINE_LOADERS[prefix](filename, map_location)
    return _as_runner_checkpoint(checkpoint)


CheckpointLoader.register_scheme(
    prefixes=_PREFIXES, loader=load_from_mmedgenext, force=True)
