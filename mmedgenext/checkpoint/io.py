"""Finding and reading checkpoint files without running code from them."""
import _compat_pickle
import argparse
import codecs
import functools
import os
import pickle
import re
import types
from urllib.parse import urlparse

import numpy as np
import torch

from mmedgenext.compat import TORCH_VERSION

from .mindcv import read_mindcv_checkpoint
from .mindspore_ckpt import is_mindspore_checkpoint
from .zoo import MODEL_ZOO


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint asked to import something outside the allow-list."""


def _history_buffer_getattr(obj, name):
    """Stands in for ``builtins.getattr``, which mmengine checkpoints use to
    pickle HistoryBuffer's statistic methods; resolves nothing else, since a
    free getattr would reach any function (``getattr(os, 'system')``)."""
    from mmengine.logging import HistoryBuffer
    # The registry of statistics fills up only once a buffer is created, so
    # a fresh process knows the built-in four by name.
    if obj is HistoryBuffer and name in {
            'min', 'max', 'mean', 'current', *HistoryBuffer._statistics_methods
    }:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Unsupported global: GLOBAL builtins.getattr({obj!r}, {name!r})')


def _safe_globals():
    """Types that plain checkpoints hold besides tensors and containers:
    the reference's training ``args`` (a Namespace) and, in mmengine
    checkpoints, logged scalars (``HistoryBuffer`` of numpy arrays)."""
    from mmengine.logging import HistoryBuffer
    # numpy 1.26 has a bare numpy._core stub; the module is numpy.core.
    core = np._core if np.lib.NumpyVersion(np.__version__) >= '2.0.0' \
        else np.core
    dtypes = {type(np.dtype(t)) for t in (np.float64, np.float32, np.float16,
                                          np.int64, np.int32, np.bool_)}
    return [
        argparse.Namespace, HistoryBuffer, core.multiarray._reconstruct,
        core.multiarray.scalar, np.ndarray, np.dtype, *dtypes,
        (_history_buffer_getattr, 'builtins.getattr')
    ]


@functools.lru_cache(maxsize=None)
def _allow_list():
    """Qualified name -> object: torch's own weights-only allow-list plus
    :func:`_safe_globals`."""
    from torch._weights_only_unpickler import _get_allowed_globals
    allowed = dict(_get_allowed_globals())
    allowed['_codecs.encode'] = codecs.encode  # bytes, pickle protocol 2
    for entry in _safe_globals():
        if isinstance(entry, tuple):
            allowed[entry[1]] = entry[0]
        else:
            allowed[f'{entry.__module__}.{entry.__qualname__}'] = entry
    # numpy 2 pickles name numpy._core, numpy 1 numpy.core.
    for name in list(allowed):
        if name.startswith(('numpy.core.', 'numpy._core.')):
            tail = name.split('.', 2)[2]
            for core in ('numpy.core.', 'numpy._core.'):
                allowed.setdefault(core + tail, allowed[name])
    return allowed


class _AllowListUnpickler(pickle.Unpickler):
    """``torch.load``'s pickle module where ``torch.serialization.
    safe_globals`` (torch >= 2.6 with named entries) is missing: resolves
    the names of :func:`_allow_list` and refuses every other global, as
    torch's weights-only loading does."""

    def find_class(self, module, name):
        # Protocol-2 pickles (torch.save's) name Python 2 modules, e.g.
        # __builtin__; pickle's own find_class maps them the same way.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[module, name]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        found = _allow_list().get(f'{module}.{name}')
        if found is None:
            raise pickle.UnpicklingError(
                f'Unsupported global: GLOBAL {module}.{name}')
        return found


_ALLOW_LIST_PICKLE = types.SimpleNamespace(
    Unpickler=_AllowListUnpickler, load=lambda f, **kw: _AllowListUnpickler(
        f, **kw).load(), __name__='mmedgenext_allow_list_pickle')


def _load_allow_listed(path, map_location):
    if TORCH_VERSION >= (2, 6):
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    return torch.load(path, map_location=map_location, weights_only=False,
                      pickle_module=_ALLOW_LIST_PICKLE)


def read_checkpoint(path, trust_checkpoint=False, map_location='cpu'):
    """``torch.load`` a file with ``weights_only=True`` and an allow-list.

    A file that needs any other global is refused with an error naming it,
    unless ``trust_checkpoint=True`` (full unpickling: only for files whose
    origin you trust). A MindSpore checkpoint (MindCV's EdgeNeXt) is read
    by :func:`read_mindcv_checkpoint`, which never runs code.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    if is_mindspore_checkpoint(path):
        return read_mindcv_checkpoint(path)
    if trust_checkpoint:
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        return _load_allow_listed(path, map_location)
    except pickle.UnpicklingError as e:
        found = re.search(r'GLOBAL ([\w.]+(\(.*?\))?)', str(e))
        if not found:
            raise ValueError(f'{path} is not a readable PyTorch checkpoint: '
                             f'{_reason(e)}') from None
        raise UnsafeCheckpointError(
            f'Refusing to load {path}: it holds {found.group(1)}, which is '
            f'not a plain weights type, and unpickling it could run code. '
            f'If you trust the file, pass trust_checkpoint=True (init_cfg) or '
            f'--trust-checkpoint (tools).') from None
    except RuntimeError as e:
        raise ValueError(f'{path} is not a readable PyTorch checkpoint: '
                         f'{_reason(e)}') from None


def _reason(error):
    """The line of torch's error that says what is wrong with the file."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def resolve_checkpoint(checkpoint):
    """Turn a path, a URL or a model-zoo name into a local file path.

    URLs are downloaded once into torch's hub cache
    (``$TORCH_HOME/hub/checkpoints``).
    """
    if os.path.isfile(checkpoint):
        return checkpoint
    name = None
    if checkpoint in MODEL_ZOO:
        url = MODEL_ZOO[checkpoint]['url']
        name = MODEL_ZOO[checkpoint].get('filename')  # if URLs share one
    elif urlparse(checkpoint).scheme in ('http', 'https', 'file'):
        url = checkpoint
    else:
        raise FileNotFoundError(
            f'Checkpoint file not found: {checkpoint}. Give an existing '
            f'path, a URL, or a model-zoo name ({", ".join(MODEL_ZOO)}).')
    cache_dir = os.path.join(torch.hub.get_dir(), 'checkpoints')
    cached = os.path.join(cache_dir,
                          name or os.path.basename(urlparse(url).path))
    if not os.path.isfile(cached):
        os.makedirs(cache_dir, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, cached, progress=False)
        except Exception as e:  # network errors come in many types
            raise RuntimeError(
                f'Could not download {url} ({e}). Download it yourself and '
                f'pass the local path as the checkpoint.') from None
    return cached
