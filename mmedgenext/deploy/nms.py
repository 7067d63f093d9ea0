"""Batched NMS that runs mmcv's kernel in PyTorch and exports as ONNX
``NonMaxSuppression``.

mmcv 2.x's NMS has no ONNX symbolic. This op has the ONNX operator's own
semantics (boxes ``(B, N, 4)``, one class, a score threshold, a per-image
cap), so the eager result and ONNX Runtime's are the same selection in the
same order.
"""
import torch
from mmcv.ops import nms as mmcv_nms


class _NonMaxSuppression(torch.autograd.Function):

    @staticmethod
    def forward(ctx, boxes, scores, max_per_img, iou_thr, score_thr):
        selected = []
        for b in range(boxes.shape[0]):
            candidates = (scores[b, 0] > score_thr).nonzero()[:, 0]
            _, keep = mmcv_nms(boxes[b, candidates], scores[b, 0, candidates],
                               iou_thr, max_num=max_per_img)
            keep = candidates[keep]
            selected.append(torch.stack([torch.full_like(keep, b), keep], 1))
        return torch.cat(selected)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_img, iou_thr, score_thr):
        def const(value, dtype):
            return g.op('Constant', value_t=torch.tensor(value, dtype=dtype))

        selected = g.op('NonMaxSuppression', boxes, scores,
                        const([max_per_img], torch.long),
                        const([iou_thr], torch.float),
                        const([score_thr], torch.float))
        # (M, 3) rows of (image, class, box) -> (image, box)
        return g.op('Gather', selected, const([0, 2], torch.long), axis_i=1)


def batched_nms(boxes, scores, max_per_img, iou_thr, score_thr):
    """Indices ``(M, 2)`` of (image, box) kept by NMS over boxes ``(B, N, 4)``
    with ``scores (B, N)``: boxes scoring above ``score_thr``, suppressed
    where IoU > ``iou_thr`` with a higher-scoring box, at most
    ``max_per_img`` per image; ordered by image, then by falling score."""
    return _NonMaxSuppression.apply(boxes, scores[:, None], int(max_per_img),
                                    float(iou_thr), float(score_thr))
