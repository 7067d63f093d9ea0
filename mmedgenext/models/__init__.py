from .backbones import ARCH_SETTINGS, EdgeFormer, EdgeNeXt
from .necks import CvnetsSSDNeck

__all__ = ['ARCH_SETTINGS', 'EdgeFormer', 'EdgeNeXt', 'CvnetsSSDNeck']
