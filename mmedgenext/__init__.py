"""mmedgenext: the EdgeNeXt backbone for OpenMMLab detection, segmentation and
classification (arXiv 2206.10589)."""
from .version import __version__
from .registry import MODELS
from . import checkpoint  # noqa: F401  (mmengine's checkpoint loader)
from .models import EdgeFormer, EdgeNeXt
from .models import dense_heads  # noqa: F401  (SSDLiteHead)

__all__ = ['__version__', 'MODELS', 'EdgeFormer', 'EdgeNeXt']
