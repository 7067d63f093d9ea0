"""mmseg decode heads, imported by the segmentation configs through
``custom_imports`` so that ``import mmedgenext`` does not need mmseg."""
from .cvnets_aspp_head import CvnetsASPPHead

__all__ = ['CvnetsASPPHead']
