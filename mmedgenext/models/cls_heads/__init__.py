"""Classification heads, imported by the classification configs through
``custom_imports`` (they build on mmpretrain, which detection and
segmentation users need not import)."""
from .dropout_linear import DropoutLinearClsHead

__all__ = ['DropoutLinearClsHead']
