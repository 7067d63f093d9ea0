"""Finding and reading checkpoint files without running code from them."""
import argparse
import os
import pickle
import re
from urllib.parse import urlparse

import numpy as np
import torch

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
    core = np._core if hasattr(np, '_core') else np.core
    dtypes = {type(np.dtype(t)) for t in (np.float64, np.float32, np.float16,
                                           np.int64, np.int32, np.bool_)}
    return [
        argparse.Namespace, HistoryBuffer, core.multiarray._reconstruct,
        core.multiarray.scalar, np.ndarray, np.dtype, *dtypes,
        (_history_buffer_getattr, 'builtins.getattr')
    ]


def read_checkpoint(path, trust_checkpoint=False, map_location='cpu'):
    """``torch.load`` a file with ``weights_only=True`` and an allow-list.

    A file that needs any other global is refused with an error naming it,
    unless ``trust_checkpoint=True`` (full unpickling: only for files whose
    origin you trust).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Checkpoint file not found: {path}')
    if trust_checkpoint:
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(
                path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r'GLOBAL ([\w.]+(\(.*?\))?)', str(e))
        if not found:
            raise ValueError(f'{path} is not a readable PyTorch checkpoint: '
                             f'{_reason(e)}') from None
        raise UnsafeCheckpointError(
            f'Refusing to load {path}: it holds {found.group(1)}, which is not a plain '
            f'weights type, and unpickling it could run code. If you trust '
            f'the file, pass trust_checkpoint=True (init_cfg) or '
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
