"""ONNX Runtime against PyTorch: the exported graph must give what the
OpenMMLab model itself predicts (its data preprocessor and its task's
predict path, mmdet's NMS included) on the same images."""
import numpy as np
import onnxruntime as ort
import torch

from mmedgenext.apis import task_of
from .images import noise_images


class OnnxMismatchError(RuntimeError):
    """ONNX Runtime's outputs differ from PyTorch's beyond the tolerance."""


def onnx_session(path, threads=None, providers=None, spin=True):
    """``spin=False`` lets idle worker threads sleep at once: what a
    benchmark that interleaves runtimes on the same cores needs."""
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if not spin:
        options.add_session_config_entry('session.intra_op.allow_spinning',
                                         '0')
    options.log_severity_level = 3
    return ort.InferenceSession(
        str(path), options,
        providers=providers or ['CPUExecutionProvider'])


def run_onnx(session, img):
    """Outputs by name for a float (B, 3, H, W) BGR 0-255 batch."""
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {'image': np.asarray(img, np.float32)})
    return dict(zip(names, values))


def reference_outputs(cfg, model, img):
    """The OpenMMLab model's own result for ``img`` (float BGR 0-255)."""
    task = task_of(cfg)
    h, w = img.shape[2:]
    meta = dict(img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.))
    inputs = list(img)
    with torch.no_grad():
        if task == 'classifier':
            data = model.data_preprocessor(dict(inputs=inputs), False)
            return dict(logits=model(data['inputs'], mode='tensor').numpy())
        if task == 'detector':
            from mmdet.structures import DetDataSample
            samples = [DetDataSample(metainfo=meta) for _ in inputs]
            results = model.test_step(dict(inputs=inputs,
                                           data_samples=samples))
            return [{k: v.numpy() for k, v in r.pred_instances.items()}
                    for r in results]
        from mmseg.structures import SegDataSample
        samples = [SegDataSample(metainfo=meta) for _ in inputs]
        results = model.test_step(dict(inputs=inputs, data_samples=samples))
        return dict(
            logits=np.stack([r.seg_logits.data.numpy() for r in results]),
            labels=np.stack([r.pred_sem_seg.data[0].numpy()
                             for r in results]))


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


def compare_outputs(cfg, reference, outputs, size, atol=1e-4):
    """Check ONNX Runtime ``outputs`` against ``reference_outputs``; return
    a one-line report, raise OnnxMismatchError beyond tolerance.

    ``atol`` bounds logit and score differences; boxes may differ by
    ``atol`` times the larger side of ``size`` (0.03 px at 320); labels of a
    segmentation map may differ only where PyTorch's two best logits are
    within ``atol`` of each other.
    """
    task = task_of(cfg)
    if task == 'detector':
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
    if 'logits' in outputs:
        diff = float(np.abs(outputs['logits'] - reference['logits']).max())
        if not diff <= atol:
            raise OnnxMismatchError(f'logits differ by up to {diff:.3g} '
                                    f'(tolerance {atol:g})')
        return f'max |logits diff| {diff:.3g}'
    logits = np.sort(reference['logits'], axis=1)
    tie = logits[:, -1] - logits[:, -2] <= atol
    differ = outputs['labels'] != reference['labels']
    if (differ & ~tie).any():
        raise OnnxMismatchError(
            f'{int((differ & ~tie).sum())} of {differ.size} pixels get '
            f'another label (tolerance {atol:g} on the logits)')
    ties = (f' (the rest at logit ties <= {atol:g})'
            if differ.any() else '')
    return (f'label maps equal at {differ.size - int(differ.sum())} of '
            f'{differ.size} pixels{ties}')


def verify_onnx(cfg, model, path, size, batch=1, atol=1e-4, img=None):
    """Run PyTorch and ONNX Runtime on the same images (float BGR 0-255;
    default: ``batch`` noise images) and compare."""
    if img is None:
        img = noise_images(batch, size)
    reference = reference_outputs(cfg, model, img)
    outputs = run_onnx(onnx_session(path), img)
    return compare_outputs(cfg, reference, outputs, size, atol)
