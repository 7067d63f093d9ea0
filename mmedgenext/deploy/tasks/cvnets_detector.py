"""ml-cvnets' SSDLite (:class:`~mmedgenext.models.dense_heads.CvnetsSSDHead`)
end to end in one graph, post-processing as ml-cvnets' ``SingleShotDetector
.predict``: softmax over background + classes, boxes decoded from the fixed
priors without a delta clamp, then per class the scores above ``score_thr``,
NMS at ``iou_threshold`` and at most ``max_per_class`` boxes (one
:func:`~mmedgenext.deploy.nms.non_max_suppression` over all classes), boxes
scaled to the input and clipped to it, as ``CvnetsSSDHead.predict_by_feat``.

Deployed beside :mod:`.detector` (mmdet's ``SSDHead`` graph): the fused
head, its class-0 background and its per-class cap differ; the outputs and
their use are the same.
"""
import torch
import torch.nn as nn

from ..nms import non_max_suppression, place_rows
from .base import Normalize
from .detector import DetectorDeploy


class CvnetsDetectorGraph(nn.Module):
    """An ml-cvnets SSDLite detector end to end.

    Outputs per image, padded to ``num_classes * max_per_class`` rows (or
    ``max_per_img`` if the test_cfg sets one): ``boxes (B, P, 4)`` (x1, y1,
    x2, y2 in input pixels, clipped), ``scores (B, P)`` and 0-based
    ``labels (B, P)`` (-1 and score 0 on padding rows). Rows come by class,
    then by falling score, as ml-cvnets lists them.
    """
    output_names = ['boxes', 'scores', 'labels']

    def __init__(self, model, cfg, size):
        super().__init__()
        head = model.bbox_head
        self.normalize = Normalize(cfg.model.data_preprocessor)
        self.model = model
        self.size = tuple(size)
        test_cfg = head.test_cfg
        self.score_thr = test_cfg['score_thr']
        self.iou_thr = test_cfg['iou_threshold']
        self.max_per_class = test_cfg['max_per_class']
        self.max_per_img = test_cfg.get('max_per_img')
        # Priors depend only on the (fixed) input size: a graph constant.
        with torch.no_grad():
            cls_scores, _ = model(torch.zeros(1, 3, *size), mode='tensor')
        self.register_buffer(
            'priors', head.priors([s.shape[-2:] for s in cls_scores], 'cpu'),
            persistent=False)

    def forward(self, img):
        head = self.model.bbox_head
        conf, deltas = head.flatten_maps(
            *self.model(self.normalize(img), mode='tensor'))
        batch = conf.shape[0]
        scores = conf.softmax(-1)[..., 1:].transpose(1, 2)  # (B, C, N)
        boxes = head.decode(deltas, self.priors)  # normalised, unclipped
        keep = non_max_suppression(boxes, scores, self.max_per_class,
                                   self.iou_thr, self.score_thr)
        image, label, index = keep[:, 0], keep[:, 1], keep[:, 2]
        h, w = self.size
        scale = boxes.new_tensor([w, h, w, h])
        limit = torch.zeros_like(scale), scale
        num = head.num_classes * self.max_per_class
        out_boxes, out_scores, out_labels = place_rows(
            image, batch, num,
            torch.max(torch.min(boxes[image, index] * scale, limit[1]),
                      limit[0]),
            scores[image, label, index], label, pad=(0, 0, -1))
        if self.max_per_img:
            top = torch.where(out_labels >= 0, out_scores,
                              out_scores.new_tensor(-1.)).topk(
                min(self.max_per_img, num), dim=1).indices
            out_boxes = out_boxes.gather(1, top[..., None].expand(-1, -1, 4))
            out_scores = out_scores.gather(1, top)
            out_labels = out_labels.gather(1, top)
        return out_boxes, out_scores, out_labels


class CvnetsDetectorDeploy(DetectorDeploy):

    def graph(self, model, size, output=None):
        return CvnetsDetectorGraph(model, self.cfg, size).eval()
