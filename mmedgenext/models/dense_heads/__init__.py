"""mmdet dense heads (registered on the first lookup of an ``mmedgenext.*``
type, see :mod:`mmedgenext.registry`)."""
from .cvnets_ssd_head import CvnetsSSDHead
from .ssdlite_head import SSDLiteHead

__all__ = ['CvnetsSSDHead', 'SSDLiteHead']
