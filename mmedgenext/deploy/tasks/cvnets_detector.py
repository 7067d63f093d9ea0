"""ml-cvnets' SSDLite (:class:`~mmedgenext.models.dense_heads.CvnetsSSDHead`)
end to end in one graph, post-processing as ml-cvnets' ``SingleShotDetector
.predict``: softmax over background + classes, boxes decoded from the fixed
priors without a delta clamp, then per class the scores above ``score_thr``,
NMS at ``iou_threshold`` and at most ``max_per_class`` boxes (one ONNX
``NonMaxSuppression`` over all classes), boxes scaled to the input and
clipped to it, as ``CvnetsSSDHead.predict_by_feat``.

A detector task of its own beside :mod:`.detector` (mmdet's ``SSDHead``
graph): the fused head, its class-0 background and its per-class cap
differ; the outputs, their use and the drawing are the same.
"""
import torch
import torch.nn as nn
from torchvision.ops import nms as tv_nms

from .base import Normalize, register_task
from .detector import DetectorTask


class _MulticlassNMS(torch.autograd.Function):
    """ONNX ``NonMaxSuppression`` with its own semantics in eager mode:
    boxes ``(B, N, 4)``, scores ``(B, C, N)``; per image and class the boxes
    scoring above ``score_thr``, suppressed where IoU > ``iou_thr`` with a
    higher-scoring one, at most ``max_per_class``. Returns ``(M, 3)`` rows of
    (image, class, box), by image, then class, then falling score."""

    @staticmethod
    def forward(ctx, boxes, scores, max_per_class, iou_thr, score_thr):
        rows = []
        for b in range(scores.shape[0]):
            for c in range(scores.shape[1]):
                candidates = (scores[b, c] > score_thr).nonzero()[:, 0]
                keep = tv_nms(boxes[b, candidates], scores[b, c, candidates],
                              iou_thr)[:max_per_class]
                keep = candidates[keep]
                rows.append(torch.stack([
                    torch.full_like(keep, b), torch.full_like(keep, c), keep
                ], 1))
        return torch.cat(rows)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_class, iou_thr, score_thr):

        def const(value, dtype):
            return g.op('Constant', value_t=torch.tensor(value, dtype=dtype))

        return g.op('NonMaxSuppression', boxes, scores,
                    const([max_per_class], torch.long),
                    const([iou_thr], torch.float),
                    const([score_thr], torch.float))


def multiclass_nms(boxes, scores, max_per_class, iou_thr, score_thr):
    """``(M, 3)`` (image, class, box) indices kept by per-class NMS over
    ``boxes (B, N, 4)`` and ``scores (B, C, N)``."""
    return _MulticlassNMS.apply(boxes, scores, int(max_per_class),
                                float(iou_thr), float(score_thr))


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
        keep = multiclass_nms(boxes, scores, self.max_per_class,
                              self.iou_thr, self.score_thr)
        image, label, index = keep[:, 0], keep[:, 1], keep[:, 2]
        # Row of each kept box within its image's output (keep is sorted
        # by image): its position minus the count of earlier images' rows.
        counts = (image[:, None] == torch.arange(
            batch, device=image.device)[None]).sum(0)
        starts = counts.cumsum(0) - counts
        rank = torch.ones_like(image).cumsum(0) - 1 - starts[image]
        h, w = self.size
        scale = boxes.new_tensor([w, h, w, h])
        limit = torch.zeros_like(scale), scale
        num = head.num_classes * self.max_per_class
        out_boxes = boxes.new_zeros(batch, num, 4)
        out_scores = scores.new_zeros(batch, num)
        out_labels = label.new_full((batch, num), -1)
        out_boxes[image, rank] = torch.max(torch.min(
            boxes[image, index] * scale, limit[1]), limit[0])
        out_scores[image, rank] = scores[image, label, index]
        out_labels[image, rank] = label
        if self.max_per_img:
            top = torch.where(out_labels >= 0, out_scores,
                              out_scores.new_tensor(-1.)).topk(
                min(self.max_per_img, num), dim=1).indices
            out_boxes = out_boxes.gather(1, top[..., None].expand(-1, -1, 4))
            out_scores = out_scores.gather(1, top)
            out_labels = out_labels.gather(1, top)
        return out_boxes, out_scores, out_labels


@register_task
class CvnetsDetectorTask(DetectorTask):
    head = 'CvnetsSSDHead'

    def graph(self, model, size, output=None):
        return CvnetsDetectorGraph(model, self.cfg, size).eval()
