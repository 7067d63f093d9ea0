"""The deployable graphs of the three tasks, and their ONNX export.

Each graph takes what a config's test pipeline produces, images as float
``(B, 3, H, W)`` in BGR order with values 0-255, and applies the config's
data preprocessor (channel order, mean, std) itself. A classifier returns
logits; a segmentor the label map (or logits) at the input size, as
mmseg's whole-image inference; an SSD detector its final detections, with
box decoding, score filtering and NMS inside the graph as mmdet's test_cfg
does them.
"""
import copy
import warnings

import torch
import torch.nn as nn
from mmdet.models.dense_heads import SSDHead
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox

from mmedgenext.apis import task_of
from mmedgenext.compat import torchscript_onnx_export_kwargs
from .nms import batched_nms

DEFAULT_OPSET = 17  # F.layer_norm -> one LayerNormalization node


class _Normalize(nn.Module):
    """The data preprocessor's arithmetic: BGR -> RGB, (x - mean) / std."""

    def __init__(self, preprocessor_cfg):
        super().__init__()
        self.to_rgb = preprocessor_cfg.get(
            'bgr_to_rgb', preprocessor_cfg.get('to_rgb', False))
        self.register_buffer('mean', torch.tensor(
            preprocessor_cfg.get('mean', [0.] * 3)).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(
            preprocessor_cfg.get('std', [1.] * 3)).view(1, 3, 1, 1))

    def forward(self, img):
        if self.to_rgb:
            img = img[:, [2, 1, 0]]
        return (img - self.mean) / self.std


class ClassifierGraph(nn.Module):
    output_names = ['logits']

    def __init__(self, model, cfg):
        super().__init__()
        self.normalize = _Normalize(cfg.model.data_preprocessor)
        self.model = model

    def forward(self, img):
        return self.model(self.normalize(img), mode='tensor')


class SegmentorGraph(nn.Module):
    """Whole-image inference: decode-head logits resized to the input."""

    def __init__(self, model, cfg, size, output='labels'):
        super().__init__()
        if output not in ('labels', 'logits'):
            raise ValueError(f'segmentor output must be labels or logits, '
                             f'got {output!r}')
        self.normalize = _Normalize(cfg.model.data_preprocessor)
        self.model = model
        self.size = tuple(size)
        self.output_names = [output]

    def forward(self, img):
        logits = self.model.encode_decode(
            self.normalize(img), [dict(img_shape=self.size)])
        if self.output_names == ['labels']:
            return logits.argmax(1)
        return logits


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
        self.normalize = _Normalize(cfg.model.data_preprocessor)
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
        keep = batched_nms(boxes + offsets, scores, self.max_per_img,
                           self.iou_thr, self.score_thr)
        image, index = keep[:, 0], keep[:, 1]
        # Row of each kept box within its image's output.
        position = torch.ones_like(image).cumsum(0) - 1
        rank = position - (image[None, :] < image[:, None]).sum(1)
        out_boxes = boxes.new_zeros(batch, self.max_per_img, 4)
        out_scores = scores.new_zeros(batch, self.max_per_img)
        out_labels = labels.new_full((batch, self.max_per_img), -1)
        out_boxes[image, rank] = boxes[image, index]
        out_scores[image, rank] = scores[image, index]
        out_labels[image, rank] = labels[image, index]
        return out_boxes, out_scores, out_labels


def switch_to_deploy(model):
    """A copy of ``model`` with each module that has an inference form (the
    EdgeNeXt backbone: 1x1 convs on NCHW maps, norms and layer scales
    folded) switched to it: the same function, a graph int8 runtimes fuse
    better. ``model`` itself is left as it is."""
    model = copy.deepcopy(model).eval()
    # Parents first (a block folds its layer scales into its attention's
    # convs); children already switched by their parent ignore the call.
    for module in model.modules():
        if hasattr(module, 'switch_to_deploy'):
            module.switch_to_deploy()
    return model


def deploy_graph(cfg, model, size, seg_output='labels', deploy_form=True):
    """The module to export for the config's task, at input ``size``; with
    ``deploy_form`` around the inference form of (a copy of) ``model``."""
    if deploy_form:
        model = switch_to_deploy(model)
    task = task_of(cfg)
    if task == 'classifier':
        return ClassifierGraph(model, cfg).eval()
    if task == 'detector':
        from mmedgenext.models.dense_heads import CvnetsSSDHead
        if isinstance(model.bbox_head, CvnetsSSDHead):  # ml-cvnets SSDLite
            from .cvnets import CvnetsDetectorGraph
            return CvnetsDetectorGraph(model, cfg, size).eval()
        return DetectorGraph(model, cfg, size).eval()
    return SegmentorGraph(model, cfg, size, seg_output).eval()


def export_onnx(graph, path, size, batch=1, opset=DEFAULT_OPSET,
                dynamic_batch=False, simplify=False):
    """Write ``graph`` as ONNX with one input, ``image``.

    Uses the TorchScript exporter (``dynamo=False``): the NMS op's symbolic
    and the shape-dependent positional encoding fold into a static graph
    there; the spatial size is fixed, the batch optionally dynamic.
    """
    example = torch.zeros(batch, 3, *size)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {name: {0: 'batch'}
                        for name in ['image'] + graph.output_names}
    with torch.no_grad(), warnings.catch_warnings():
        # Benign here: values the trace fixes (static sizes), slices left
        # unfolded, index ops (all indices are non-negative).
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', '(Constant folding|Exporting aten)')
        torch.onnx.export(
            graph, (example, ), path, opset_version=opset,
            input_names=['image'], output_names=graph.output_names,
            dynamic_axes=dynamic_axes, do_constant_folding=True,
            **torchscript_onnx_export_kwargs())
    if simplify:
        import onnx
        import onnxslim
        onnx.save(onnxslim.slim(onnx.load(path)), path)
    return path
