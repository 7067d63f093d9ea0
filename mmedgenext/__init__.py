"""mmedgenext: the EdgeNeXt backbone for OpenMMLab detection, segmentation and
classification (arXiv 2206.10589).

Importing the package (what ``custom_imports=dict(imports=['mmedgenext'])``
does) sets up the registry scope and mmengine's checkpoint loader only: the
models register on the first lookup of an ``mmedgenext.*`` type (see
:mod:`mmedgenext.registry`), so that importing the plugin pulls in neither
mmdet, mmseg nor mmpretrain. ``EdgeNeXt`` and ``EdgeFormer`` are imported
from :mod:`mmedgenext.models` when first asked for.
"""
import importlib.metadata

from mmengine.utils import digit_version

from .version import __version__

MMCV_MIN, MMCV_MAX = '2.0.0rc4', '2.2.0'


def _check_mmcv():
    """mmcv is not declared (its ops come as a wheel built for the env's
    torch: tools/setup_env.sh); as mmdet, mmseg and mmpretrain do, its
    version is checked on import, here from its metadata, without
    importing it."""
    try:
        found = importlib.metadata.version('mmcv')
    except importlib.metadata.PackageNotFoundError:
        found = None
    if found is None or not (digit_version(MMCV_MIN) <= digit_version(
            found) < digit_version(MMCV_MAX)):
        raise ImportError(
            f'mmedgenext needs mmcv>={MMCV_MIN},<{MMCV_MAX} with its '
            'compiled ops (2.1.0: tools/setup_env.sh, or mim install '
            'mmcv==2.1.0); ' + ('mmcv is not installed' if found is None
                                else f'found mmcv {found}'))


_check_mmcv()  # before anything imports mmcv

from .registry import MODELS  # noqa: E402
from . import checkpoint  # noqa: E402,F401  (mmengine's checkpoint loader)
__all__ = ['__version__', 'MODELS', 'EdgeFormer', 'EdgeNeXt']
_FROM_MODELS = ('EdgeFormer', 'EdgeNeXt')


def __getattr__(name):
    """``from mmedgenext import EdgeNeXt`` without importing the models on
    ``import mmedgenext`` (PEP 562)."""
    if name in _FROM_MODELS:
        from . import models
        return getattr(models, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
