from .cvnets_ssd_head import CvnetsSSDHead
from .ssdlite_head import SSDLiteHead

__all__ = ['CvnetsSSDHead', 'SSDLiteHead']
