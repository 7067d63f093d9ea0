"""mmseg decode heads (registered on the first lookup of an
``mmedgenext.*`` type, see :mod:`mmedgenext.registry`)."""
from .cvnets_aspp_head import CvnetsASPPHead

__all__ = ['CvnetsASPPHead']
