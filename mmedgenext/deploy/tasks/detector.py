"""SSD detectors of mmdet (``SSDHead`` and its subclasses, e.g. SSDLite)
end to end: box decoding, score filtering and NMS inside the graph, as
mmdet's test_cfg does them."""
import numpy as np
import torch
import torch.nn as nn
from mmdet.evaluation.functional import bbox_overlaps
from mmdet.models.dense_heads import SSDHead
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox

from ..nms import non_max_suppression, place_rows
from .base import DeployTask, Normalize, OnnxMismatchError


class DetectorGraph(nn.Module):
    """An SSD detector end to end, reproducing ``SSDHead.predict`` with the
    config's test_cfg: softmax scores (background last), per level the
    ``nms_pre`` best (anchor, class) pairs above ``score_thr``, boxes decoded
    by the head's coder and clipped to the image, boxes no wider or taller
    than ``min_bbox_size`` dropped, per-class NMS (mmcv's class-offset
    trick), ``max_per_img`` kept.

    Outputs per image, padded to ``max_per_img`` rows: ``boxes (B, P, 4)``
    (x1, y1, x2, y2 in input pixels), ``scores (B, P)``, ``labels (B, P)``
    (-1 on padding rows), rows ordered by falling score.
    """
    output_names = ['boxes', 'scores', 'labels']

    def __init__(self, model, cfg, size):
        super().__init__()
        head = model.bbox_head
        if not isinstance(head, SSDHead) or type(
                head.bbox_coder) is not DeltaXYWHBBoxCoder:
            raise ValueError(
                'only SSD heads with the DeltaXYWHBBoxCoder can be exported '
                f'end to end, got {type(head).__name__} with '
                f'{type(head.bbox_coder).__name__}')
        test_cfg = model.test_cfg
        if test_cfg.nms.get('type', 'nms') != 'nms':
            raise ValueError(f'test_cfg.nms.type={test_cfg.nms.type!r}: '
                             "only 'nms' has an ONNX equivalent here")
        self.normalize = Normalize(cfg.model.data_preprocessor)
        self.model = model
        self.size = tuple(size)
        self.score_thr = test_cfg.get('score_thr', 0.)
        self.nms_pre = test_cfg.get('nms_pre', -1)
        self.min_bbox_size = test_cfg.get('min_bbox_size', -1)
        self.iou_thr = test_cfg.nms.iou_threshold
        self.max_per_img = test_cfg.max_per_img
        # Anchors depend only on the (fixed) input size: graph constants.
        with torch.no_grad():
            cls_scores, _ = model(torch.zeros(1, 3, *size), mode='tensor')
        priors = head.prior_generator.grid_priors(
            [s.shape[-2:] for s in cls_scores], device='cpu')
        for i, p in enumerate(priors):
            self.register_buffer(f'priors{i}', p, persistent=False)

    def _candidates(self, cls_scores, bbox_preds):
        """mmdet's filter_scores_and_topk per level, as fixed-size top-k:
        pairs at or below ``score_thr`` get score -1 instead of leaving."""
        head = self.model.bbox_head
        num_classes = head.num_classes
        scores_, deltas_, priors_, labels_ = [], [], [], []
        for i, (cls, reg) in enumerate(zip(cls_scores, bbox_preds)):
            batch = cls.shape[0]
            scores = cls.permute(0, 2, 3, 1).reshape(
                batch, -1, num_classes + 1).softmax(-1)[..., :num_classes]
            scores = scores.reshape(batch, -1)
            scores = torch.where(scores > self.score_thr, scores,
                                 scores.new_tensor(-1.))
            k = scores.shape[1]
            if self.nms_pre > 0:
                k = min(self.nms_pre, k)
            scores, idx = scores.topk(k, dim=1)
            anchor = idx // num_classes
            deltas = reg.permute(0, 2, 3, 1).reshape(batch, -1, 4)
            scores_.append(scores)
            labels_.append(idx % num_classes)
            deltas_.append(deltas.gather(
                1, anchor[..., None].expand(-1, -1, 4)))
            priors_.append(getattr(self, f'priors{i}')[anchor])
        return (torch.cat(scores_, 1), torch.cat(labels_, 1),
                torch.cat(deltas_, 1), torch.cat(priors_, 1))

    def forward(self, img):
        cls_scores, bbox_preds = self.model(self.normalize(img), mode='tensor')
        scores, labels, deltas, priors = self._candidates(
            cls_scores, bbox_preds)
        batch, num = scores.shape
        # The function the coder's decode calls for one image (its ONNX
        # branch imports mmdet 2's mmdet.core, gone in mmdet 3).
        coder = self.model.bbox_head.bbox_coder
        boxes = delta2bbox(
            priors.reshape(-1, 4), deltas.reshape(-1, 4), coder.means,
            coder.stds, self.size, clip_border=coder.clip_border,
            add_ctr_clamp=coder.add_ctr_clamp,
            ctr_clamp=coder.ctr_clamp).reshape(batch, num, 4)
        if self.min_bbox_size >= 0:
            wh = boxes[..., 2:] - boxes[..., :2]
            big = (wh > self.min_bbox_size).all(-1)
            scores = torch.where(big, scores, scores.new_tensor(-1.))
        # Per-class NMS as one NMS: boxes of class c shifted by c times
        # (the largest coordinate + 1), as mmcv's batched_nms does.
        valid = (scores > self.score_thr)[..., None]
        max_coordinate = torch.where(valid, boxes, boxes.new_tensor(
            0.)).amax((1, 2), keepdim=True)
        offsets = labels[..., None].to(boxes) * (max_coordinate + 1)
        keep = non_max_suppression(boxes + offsets, scores[:, None],
                                   self.max_per_img, self.iou_thr,
                                   self.score_thr)
        image, index = keep[:, 0], keep[:, 2]
        return place_rows(image, batch, self.max_per_img, boxes[image, index],
                          scores[image, index], labels[image, index],
                          pad=(0, 0, -1))


def match_detections(ref, boxes, scores, labels, box_tol):
    """Pair each reference detection with the closest unmatched one of the
    same label; returns (max box difference, max score difference) or
    raises OnnxMismatchError."""
    keep = labels >= 0
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    if len(labels) != len(ref['labels']):
        raise OnnxMismatchError(
            f'PyTorch finds {len(ref["labels"])} detections, ONNX Runtime '
            f'{len(labels)}')
    free = np.ones(len(labels), bool)
    box_diff = score_diff = 0.
    for box, score, label in zip(ref['bboxes'], ref['scores'],
                                 ref['labels']):
        dist = np.abs(boxes - box).max(1)
        dist[~free | (labels != label)] = np.inf
        j = int(dist.argmin())
        if dist[j] > box_tol:
            tie = ('; PyTorch\'s scores tie, so which boxes NMS keeps is '
                   'arbitrary (untrained weights?)' if len(np.unique(
                       ref['scores'])) < len(ref['scores']) else '')
            raise OnnxMismatchError(
                f'PyTorch detection {np.round(box, 2).tolist()} (label '
                f'{label}, score {score:.4f}) has no ONNX Runtime box within '
                f'{box_tol:.3g} px{tie}')
        free[j] = False
        box_diff = max(box_diff, float(dist[j]))
        score_diff = max(score_diff, abs(float(scores[j]) - float(score)))
    return box_diff, score_diff


class DetectorDeploy(DeployTask):
    """Graphs output per image, padded with label -1 and score 0: ``boxes
    (B, P, 4)`` (x1, y1, x2, y2 in input pixels), ``scores (B, P)``,
    ``labels (B, P)``."""
    int8_score_thr = 0.3  # float detections int8 must find again
    fixed_because = 'its anchors are constants of the input size'
    quality_metrics = ('bbox_mAP', 'mAP')  # CocoMetric, VOCMetric
    metric_points = 100

    def graph(self, model, size, output=None):
        return DetectorGraph(model, self.cfg, size).eval()

    def work_around(self, model):
        """mmdet 3.3.0's ``SSDHead`` never sets ``loss_cls``, which its
        predict reads (stock configs: mmdet's SSDLite-MobileNetV2): set to
        None, its softmax path, as the plugin's ``SSDLiteHead`` does."""
        head = model.bbox_head
        if isinstance(head, SSDHead) and not hasattr(head, 'loss_cls'):
            head.loss_cls = None
            return [f"worked around mmdet's SSDHead bug: "
                    f'{type(head).__name__} has no loss_cls, which its '
                    'predict reads (mmdet 3.3.0, open-mmlab/mmdetection'
                    '#11780); set to None, the softmax scores SSD trains '
                    'with']
        return []

    def reference(self, model, img):
        from mmdet.structures import DetDataSample
        return [{k: v.numpy() for k, v in r.pred_instances.items()}
                for r in self._predict(model, img, DetDataSample)]

    def compare(self, reference, outputs, size, atol=1e-4):
        """Every PyTorch detection matched; scores within ``atol``, boxes
        within ``atol`` times the larger side of ``size`` (0.03 px at
        320)."""
        box_tol = atol * max(size)
        box_diff = score_diff = 0.
        count = 0
        for b, ref in enumerate(reference):
            d_box, d_score = match_detections(
                ref, outputs['boxes'][b], outputs['scores'][b],
                outputs['labels'][b], box_tol)
            box_diff, score_diff = max(box_diff, d_box), max(score_diff,
                                                             d_score)
            count += len(ref['labels'])
        if score_diff > atol:
            raise OnnxMismatchError(
                f'detection scores differ by up to {score_diff:.3g} '
                f'(tolerance {atol:g})')
        return (f'{count} detections, all matched: max |box diff| '
                f'{box_diff:.3g} px, max |score diff| {score_diff:.3g}')

    def compare_int8(self, pairs):
        """The share of float detections scoring at least
        ``int8_score_thr`` that int8 finds again (same label, IoU >= 0.5),
        and the score differences of those."""
        found, score_diffs = [], []
        for a, b in pairs:
            for img in range(len(a['labels'])):
                ref = a['scores'][img] >= self.int8_score_thr
                iou = bbox_overlaps(a['boxes'][img][ref], b['boxes'][img])
                same = a['labels'][img][ref][:, None] == b['labels'][img][
                    None]
                hits = (iou >= 0.5) & same
                found += hits.any(1).tolist()
                best = np.where(hits, iou, -1).argmax(1)
                score_diffs += np.abs(a['scores'][img][ref] - b['scores'][
                    img][best])[hits.any(1)].tolist()
        return dict(images=sum(len(a['labels']) for a, _ in pairs),
                    float_detections=len(found),
                    recovered=float(np.mean(found)) if found else float(
                        'nan'),
                    max_score_diff=max(score_diffs, default=float('nan')),
                    mean_score_diff=float(np.mean(score_diffs))
                    if score_diffs else float('nan'))

    def add_prediction(self, outputs, data_sample, shape, size):
        """Boxes back to the pipeline's image, then divided by its scale
        factor as mmdet's ``rescale=True``."""
        from mmengine.structures import InstanceData
        keep = outputs['labels'] >= 0
        boxes = outputs['boxes'][keep]
        h, w = size
        scale = boxes.new_tensor([shape[1] / w, shape[0] / h] * 2)
        boxes = boxes * scale / boxes.new_tensor(
            list(data_sample.scale_factor) * 2)
        data_sample.pred_instances = InstanceData(
            bboxes=boxes, scores=outputs['scores'][keep],
            labels=outputs['labels'][keep])
