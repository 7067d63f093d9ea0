"""ml-cvnets' SSDLite head (cvnets-v0.1, as trained for EdgeFormer and the
EdgeNeXt paper) in mmdet: one fused box/class separable conv per level with
background as class 0, normalised centre-form priors, decoding without a
delta clamp, per-class NMS, and the multibox loss (IoU-0.5 matching, 3:1
hard-negative mining)."""
import math

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmengine.structures import InstanceData
from torch import nn
from torchvision.ops import nms

from mmedgenext.registry import MODELS
from ..layers.cvnets_blocks import ConvLayer, SeparableConv


def box_iou(a, b, eps=1e-5):
    """IoU of corner-form boxes ``a (N, 4)`` and ``b (M, 4)``, ml-cvnets'
    way (epsilon in the denominator)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter + eps)


def to_corners(boxes):
    return torch.cat([boxes[..., :2] - boxes[..., 2:] / 2,
                      boxes[..., :2] + boxes[..., 2:] / 2], -1)


def to_centers(boxes):
    return torch.cat([(boxes[..., :2] + boxes[..., 2:]) / 2,
                      boxes[..., 2:] - boxes[..., :2]], -1)


class _LevelHead(nn.Module):
    """ml-cvnets' ``SSDHead`` for one level: optional 1x1 projection, then
    one conv giving ``anchors * (4 + classes)`` channels."""

    def __init__(self, in_channels, proj_channels, out_channels, kernel_size):
        super().__init__()
        self.proj_layer = None
        if proj_channels not in (-1, in_channels) and kernel_size > 1:
            self.proj_layer = ConvLayer(in_channels, proj_channels, 1,
                                        act=nn.ReLU)
            in_channels = proj_channels
        if kernel_size == 1:
            self.loc_cls_layer = ConvLayer(in_channels, out_channels, 1,
                                           bias=True, norm=False, act=None)
        else:
            self.loc_cls_layer = SeparableConv(
                in_channels, out_channels, kernel_size, bias=True, norm=False,
                act=None)

    def forward(self, x):
        if self.proj_layer is not None:
            x = self.proj_layer(x)
        return self.loc_cls_layer(x)


@MODELS.register_module()
class CvnetsSSDHead(BaseDenseHead):
    """ml-cvnets' SSD head.

    ``forward`` returns mmdet-style per-level maps, ``cls_scores``
    ``(B, A * (num_classes + 1), H, W)`` (channel 0 of each anchor is the
    background) and ``bbox_preds`` ``(B, A * 4, H, W)``, split from the fused
    conv; flattened, priors run over y, then x, then anchor, as ml-cvnets'.

    Args:
        num_classes (int): Object classes, without the background.
        in_channels (Sequence[int]): Channels of each level.
        proj_channels (Sequence[int]): 1x1 projection widths (-1 or the
            input width: none).
        kernel_sizes (Sequence[int]): 3 (separable conv) or 1 (plain conv,
            the global level).
        aspect_ratios (Sequence[Sequence[int]]): Per level; each ratio r adds
            two priors (r and 1/r) to the two square ones.
        min_ratio, max_ratio (float): Prior scales, linearly spaced over the
            levels, relative to the image.
        center_variance, size_variance (float): Box encoding variances.
        train_cfg (dict): ``iou_threshold`` (0.5) for matching,
            ``neg_pos_ratio`` (3) for hard-negative mining.
        test_cfg (dict): ``score_thr`` (0.05), ``iou_threshold`` (0.5),
            ``max_per_class`` (200), ``max_per_img`` (None: no cap).
    """

    def __init__(self, num_classes=80,
                 in_channels=(128, 160, 256, 128, 128, 64),
                 proj_channels=(512, 256, 256, 128, 128, 64),
                 kernel_sizes=(3, 3, 3, 3, 3, 1),
                 aspect_ratios=((2, 3), ) * 5 + ((2, ), ),
                 min_ratio=0.1, max_ratio=1.05, center_variance=0.1,
                 size_variance=0.2, train_cfg=None, test_cfg=None,
                 init_cfg=dict(type='Xavier', layer='Conv2d',
                               distribution='uniform')):
        super().__init__(init_cfg=init_cfg)
        levels = len(in_channels)
        if not (len(proj_channels) == len(kernel_sizes) == len(aspect_ratios)
                == levels):
            raise ValueError(
                'in_channels, proj_channels, kernel_sizes and aspect_ratios '
                f'need one entry per level ({levels})')
        self.num_classes = num_classes
        self.aspect_ratios = [list(dict.fromkeys(r)) for r in aspect_ratios]
        self.num_anchors = [2 + 2 * len(r) for r in self.aspect_ratios]
        scales = torch.linspace(min_ratio, max_ratio, levels + 1,
                                dtype=torch.float64).tolist()
        self.sizes = [(scales[i], math.sqrt(scales[i] * scales[i + 1]))
                      for i in range(levels)]
        self.center_variance = center_variance
        self.size_variance = size_variance
        self.train_cfg = dict(dict(iou_threshold=0.5, neg_pos_ratio=3),
                              **(train_cfg or {}))
        self.test_cfg = dict(dict(score_thr=0.05, iou_threshold=0.5,
                                  max_per_class=200, max_per_img=None),
                             **(test_cfg or {}))
        self.ssd_heads = nn.ModuleList([
            _LevelHead(c, p, a * (4 + num_classes + 1), k) for c, p, a, k in
            zip(in_channels, proj_channels, self.num_anchors, kernel_sizes)
        ])

    def forward(self, feats):
        cls_scores, bbox_preds = [], []
        for x, head, a in zip(feats, self.ssd_heads, self.num_anchors):
            out = head(x)
            b, _, h, w = out.shape
            out = out.view(b, a, -1, h, w)
            bbox_preds.append(out[:, :, :4].reshape(b, -1, h, w))
            cls_scores.append(out[:, :, 4:].reshape(b, -1, h, w))
        return cls_scores, bbox_preds

    def priors(self, sizes, device=None):
        """Centre-form ``(cx, cy, w, h)`` priors in [0, 1] for maps of the
        given ``(H, W)`` sizes, clamped in centre form as ml-cvnets does."""
        out = []
        for (h, w), (smin, smax), ratios in zip(sizes, self.sizes,
                                                self.aspect_ratios):
            wh = [(smin, smin), (smax, smax)]
            for r in ratios:
                wh += [(smin * math.sqrt(r), smin / math.sqrt(r)),
                       (smin / math.sqrt(r), smin * math.sqrt(r))]
            wh = torch.tensor(wh, dtype=torch.float64)
            cy, cx = torch.meshgrid(
                (torch.arange(h, dtype=torch.float64) + 0.5) * (1.0 / h),
                (torch.arange(w, dtype=torch.float64) + 0.5) * (1.0 / w),
                indexing='ij')
            ctr = torch.stack([cx, cy], -1).reshape(-1, 1, 2)
            level = torch.cat([ctr.expand(-1, len(wh), 2),
                               wh.expand(h * w, -1, -1)], -1)
            out.append(level.reshape(-1, 4).float())
        return torch.cat(out).clamp(0, 1).to(device)

    def flatten_maps(self, cls_scores, bbox_preds):
        """(B, N, num_classes + 1) logits and (B, N, 4) deltas in prior
        order (level, y, x, anchor)."""

        def flat(maps, width):
            return torch.cat([
                m.reshape(m.shape[0], a, width, m.shape[2],
                          m.shape[3]).permute(0, 3, 4, 1,
                                              2).reshape(m.shape[0], -1, width)
                for m, a in zip(maps, self.num_anchors)
            ], 1)

        return flat(cls_scores, self.num_classes + 1), flat(bbox_preds, 4)

    def _flatten(self, cls_scores, bbox_preds):
        """(B, N, num_classes + 1) logits, (B, N, 4) deltas, (N, 4) priors."""
        priors = self.priors([m.shape[2:] for m in cls_scores],
                             cls_scores[0].device)
        return (*self.flatten_maps(cls_scores, bbox_preds), priors)

    def decode(self, deltas, priors):
        """Normalised corner boxes; no clamp on the size deltas."""
        ctr = deltas[..., :2] * self.center_variance * priors[..., 2:] \
            + priors[..., :2]
        size = torch.exp(
            deltas[..., 2:] * self.size_variance) * priors[..., 2:]
        return to_corners(torch.cat([ctr, size], -1))

    def match(self, gt_boxes, gt_labels, priors):
        """ml-cvnets' prior matching: each prior takes its best ground truth,
        each ground truth its best prior; IoU below the threshold is
        background (0). Returns the labels and the regression targets."""
        if len(gt_boxes) == 0:
            return (gt_labels.new_zeros(len(priors)),
                    priors.new_zeros(len(priors), 4))
        ious = box_iou(to_corners(priors), gt_boxes)
        best_iou, best_gt = ious.max(1)
        best_prior = ious.argmax(0)
        for gt_index, prior_index in enumerate(best_prior.tolist()):
            best_gt[prior_index] = gt_index
        best_iou[best_prior] = 2.
        labels = gt_labels[best_gt]
        labels[best_iou < self.train_cfg['iou_threshold']] = 0
        boxes = to_centers(gt_boxes[best_gt])
        targets = torch.cat([
            (boxes[:, :2] - priors[:, :2]) / priors[:, 2:]
            / self.center_variance,
            torch.log(boxes[:, 2:] / priors[:, 2:]) / self.size_variance
        ], -1)
        return labels, targets

    def loss_by_feat(self, cls_scores, bbox_preds, batch_gt_instances,
                     batch_img_metas, batch_gt_instances_ignore=None):
        conf, deltas, priors = self._flatten(cls_scores, bbox_preds)
        labels, targets = [], []
        for gt, meta in zip(batch_gt_instances, batch_img_metas):
            h, w = meta['img_shape'][:2]
            scale = gt.bboxes.new_tensor([w, h, w, h])
            lab, tgt = self.match(gt.bboxes / scale, gt.labels + 1, priors)
            labels.append(lab)
            targets.append(tgt)
        labels, targets = torch.stack(labels), torch.stack(targets)
        pos = labels > 0
        num_pos = max(1, int(pos.sum()))
        loss_bbox = F.smooth_l1_loss(deltas[pos], targets[pos],
                                     reduction='sum') / num_pos
        with torch.no_grad():  # hard-negative mining on background loss
            bg_loss = -F.log_softmax(conf, -1)[..., 0]
            bg_loss[pos] = -math.inf
            rank = bg_loss.argsort(1, descending=True).argsort(1)
            neg = rank < self.train_cfg['neg_pos_ratio'] * pos.sum(
                1, keepdim=True)
            mask = pos | neg
        loss_cls = F.cross_entropy(conf[mask], labels[mask],
                                   reduction='sum') / num_pos
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox)

    def postprocess(self, scores, boxes):
        """Per-class score threshold, NMS and cap on one image's softmax
        ``scores (N, num_classes + 1)`` and ``boxes (N, 4)``; returns boxes,
        scores and 0-based labels, grouped by class."""
        cfg = self.test_cfg
        out_boxes, out_scores, out_labels = [], [], []
        for c in range(1, self.num_classes + 1):
            mask = scores[:, c] > cfg['score_thr']
            if not mask.any():
                continue
            b, s = boxes[mask], scores[mask, c]
            keep = nms(b, s, cfg['iou_threshold'])[:cfg['max_per_class']]
            out_boxes.append(b[keep])
            out_scores.append(s[keep])
            out_labels.append(torch.full_like(keep, c - 1))
        if not out_boxes:
            return boxes.new_zeros(0, 4), scores.new_zeros(0), \
                torch.zeros(0, dtype=torch.long, device=boxes.device)
        boxes, scores, labels = (torch.cat(out_boxes), torch.cat(out_scores),
                                 torch.cat(out_labels))
        if cfg['max_per_img']:
            top = scores.argsort(descending=True)[:cfg['max_per_img']]
            boxes, scores, labels = boxes[top], scores[top], labels[top]
        return boxes, scores, labels

    def predict_by_feat(self, cls_scores, bbox_preds, batch_img_metas=None,
                        cfg=None, rescale=False, with_nms=True, **kwargs):
        """Detections in pixels of the network input (``rescale=False``) or
        of the original image, clipped to it, as ml-cvnets' evaluation."""
        conf, deltas, priors = self._flatten(cls_scores, bbox_preds)
        all_scores = conf.softmax(-1)
        all_boxes = self.decode(deltas, priors)
        results = []
        for scores, boxes, meta in zip(all_scores, all_boxes,
                                       batch_img_metas):
            boxes, scores, labels = self.postprocess(scores, boxes)
            h, w = meta['img_shape'][:2]
            boxes = boxes * boxes.new_tensor([w, h, w, h])
            if rescale:
                boxes = boxes / boxes.new_tensor(
                    meta['scale_factor']).repeat(2)
                h, w = meta['ori_shape'][:2]
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
            results.append(InstanceData(bboxes=boxes, scores=scores,
                                        labels=labels))
        return results
