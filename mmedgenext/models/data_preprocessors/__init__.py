"""Data preprocessors for classification.

Imported by the ImageNet configs through ``custom_imports`` rather than by
``mmedgenext.models``: they build on mmpretrain, which detection and
segmentation users need not import.
"""
from .multi_scale import MultiScaleClsDataPreprocessor

__all__ = ['MultiScaleClsDataPreprocessor']
