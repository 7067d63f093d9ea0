from .edgenext import ARCH_SETTINGS, EdgeNeXt

__all__ = ['ARCH_SETTINGS', 'EdgeNeXt']
