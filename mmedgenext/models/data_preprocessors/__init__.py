"""Data preprocessors for classification (built on mmpretrain; registered
on the first lookup of an ``mmedgenext.*`` type, see
:mod:`mmedgenext.registry`)."""
from .multi_scale import MultiScaleClsDataPreprocessor

__all__ = ['MultiScaleClsDataPreprocessor']
