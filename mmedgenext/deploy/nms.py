"""NMS inside the exported detector graphs: one op that runs in PyTorch and
exports as ONNX ``NonMaxSuppression``, with that operator's semantics in
both, and the placement of its kept boxes in fixed-size outputs.

mmcv 2.x's NMS has no ONNX symbolic; torchvision's exports for one image
and one class. This op is the ONNX operator itself: boxes ``(B, N, 4)``,
scores ``(B, C, N)``, per image and class the boxes scoring above a
threshold, suppressed greedily by falling score where their IoU with a kept
box exceeds ``iou_thr``, at most ``max_per_class`` kept. In PyTorch it runs
torchvision's NMS kernel per image and class, so the eager result and ONNX
Runtime's are the same selection in the same order.
"""
import torch
from torchvision.ops import nms as torchvision_nms


class _NonMaxSuppression(torch.autograd.Function):

    @staticmethod
    def forward(ctx, boxes, scores, max_per_class, iou_thr, score_thr):
        rows = []
        for b in range(scores.shape[0]):
            for c in range(scores.shape[1]):
                candidates = (scores[b, c] > score_thr).nonzero()[:, 0]
                keep = torchvision_nms(boxes[b, candidates],
                                       scores[b, c, candidates],
                                       iou_thr)[:max_per_class]
                keep = candidates[keep]
                rows.append(torch.stack([torch.full_like(keep, b),
                                         torch.full_like(keep, c), keep], 1))
        return torch.cat(rows)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_class, iou_thr, score_thr):

        def const(value, dtype):
            return g.op('Constant', value_t=torch.tensor(value, dtype=dtype))

        return g.op('NonMaxSuppression', boxes, scores,
                    const([max_per_class], torch.long),
                    const([iou_thr], torch.float),
                    const([score_thr], torch.float))


def non_max_suppression(boxes, scores, max_per_class, iou_thr, score_thr):
    """``(M, 3)`` rows of (image, class, box index) kept by NMS over
    ``boxes (B, N, 4)`` (x1, y1, x2, y2) and ``scores (B, C, N)``: per image
    and class, ordered by image, then class, then falling score."""
    return _NonMaxSuppression.apply(boxes, scores, int(max_per_class),
                                    float(iou_thr), float(score_thr))


def place_rows(image, num_images, rows_per_image, *values, pad):
    """Kept boxes into fixed-size outputs: ``values[i]`` (one row per kept
    box, the boxes sorted by ``image`` as :func:`non_max_suppression`
    gives them) into ``(num_images, rows_per_image, ...)`` tensors filled
    with ``pad[i]``, each image's boxes in their order from row 0."""
    counts = (image[:, None] == torch.arange(
        num_images, device=image.device)[None]).sum(0)
    starts = counts.cumsum(0) - counts
    row = torch.ones_like(image).cumsum(0) - 1 - starts[image]
    outputs = []
    for value, fill in zip(values, pad):
        out = value.new_full((num_images, rows_per_image, *value.shape[1:]),
                             fill)
        out[image, row] = value
        outputs.append(out)
    return tuple(outputs)
