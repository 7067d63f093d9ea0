"""mmseg segmentors, imported by the segmentation configs through
``custom_imports`` (they build on mmseg)."""
from .nearest_resize import NearestResizeEncoderDecoder

__all__ = ['NearestResizeEncoderDecoder']
