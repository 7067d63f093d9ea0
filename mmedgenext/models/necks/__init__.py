from .cvnets_ssd_neck import CvnetsSSDNeck

__all__ = ['CvnetsSSDNeck']
