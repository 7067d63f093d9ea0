from .edgeformer import EdgeFormer
from .edgenext import ARCH_SETTINGS, EdgeNeXt

__all__ = ['ARCH_SETTINGS', 'EdgeFormer', 'EdgeNeXt']
