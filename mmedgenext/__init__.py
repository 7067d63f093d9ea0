"""mmedgenext: the EdgeNeXt backbone for OpenMMLab detection, segmentation and
classification (arXiv 2206.10589).

Importing the package (what ``custom_imports=dict(imports=['mmedgenext'])``
does) sets up the registry scope and mmengine's checkpoint loader only: the
models register on the first lookup of an ``mmedgenext.*`` type (see
:mod:`mmedgenext.registry`), so that importing the plugin pulls in neither
mmdet, mmseg nor mmpretrain. ``EdgeNeXt`` and ``EdgeFormer`` are imported
from :mod:`mmedgenext.models` when first asked for.
"""
from .version import __version__
from .registry import MODELS
from . import checkpoint  # noqa: F401  (mmengine's checkpoint loader)

__all__ = ['__version__', 'MODELS', 'EdgeFormer', 'EdgeNeXt']
_FROM_MODELS = ('EdgeFormer', 'EdgeNeXt')


def __getattr__(name):
    """``from mmedgenext import EdgeNeXt`` without importing the models on
    ``import mmedgenext`` (PEP 562)."""
    if name in _FROM_MODELS:
        from . import models
        return getattr(models, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
