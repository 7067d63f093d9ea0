"""Classification heads (built on mmpretrain; registered on the first
lookup of an ``mmedgenext.*`` type, see :mod:`mmedgenext.registry`)."""
from .dropout_linear import DropoutLinearClsHead

__all__ = ['DropoutLinearClsHead']
