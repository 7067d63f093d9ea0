"""mmseg segmentors (registered on the first lookup of an ``mmedgenext.*``
type, see :mod:`mmedgenext.registry`)."""
from .nearest_resize import NearestResizeEncoderDecoder

__all__ = ['NearestResizeEncoderDecoder']
