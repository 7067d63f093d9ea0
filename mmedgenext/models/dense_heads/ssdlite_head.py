"""mmdet's SSDHead, usable at validation/test time under mmdet 3.3.0."""
from mmdet.models.dense_heads import SSDHead

from mmedgenext.registry import MODELS


@MODELS.register_module()
class SSDLiteHead(SSDHead):
    """SSDHead whose ``predict`` works.

    mmdet 3.3.0's ``SSDHead`` never sets ``loss_cls`` (its loss is written
    out inline), but the shared ``BaseDenseHead._predict_by_feat_single``
    reads ``self.loss_cls`` and fails with an AttributeError during
    validation. ``None`` tells that code there is no custom activation, so
    it takes the softmax path that SSD trains with (background last).
    Upstream: open-mmlab/mmdetection#11780 (fix proposed in #11524); drop
    this class once a released mmdet sets ``loss_cls`` in ``SSDHead``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_cls = None
