"""Static int8 quantization of an exported graph with ONNX Runtime, and how
far the int8 model's outputs move from the float model's (calibration and
comparison images come from :func:`pipeline_images`)."""
from pathlib import Path

import numpy as np
from mmengine.registry import DefaultScope
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                      QuantFormat, QuantType,
                                      quant_pre_process, quantize_static)

from mmedgenext.apis import task_of
from .runtimes import cpu_has_vnni, load_runtime

# Ops with weights; norms, softmax and the detector's post-processing
# stay float.
DEFAULT_OP_TYPES = ('Conv', 'MatMul', 'Gemm')
CALIBRATION_METHODS = {m.name.lower(): m for m in CalibrationMethod}


class _Reader(CalibrationDataReader):

    def __init__(self, images):
        self._images = iter(images)

    def get_next(self):
        img = next(self._images, None)
        return None if img is None else {'image': img}


def _fuse_gelu(model):
    """The erf-form GELU subgraphs of an opset < 20 export as single Gelu
    nodes (com.microsoft, which OpenVINO reads too). Left as five nodes,
    ONNX Runtime gives each consumer of the quantized input its own
    DequantizeLinear, no longer recognises the pattern and runs Erf, Div,
    Mul and Add one by one (15% of the LayerNorm classifier's int8 time)."""
    import onnx
    from onnxruntime.transformers.fusion_gelu import FusionGelu
    from onnxruntime.transformers.onnx_model import OnnxModel
    wrapped = OnnxModel(model)
    FusionGelu(wrapped).apply()
    wrapped.prune_graph()
    if not any(o.domain == 'com.microsoft' for o in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid('com.microsoft',
                                                           1))
    return wrapped.model


def quantize_onnx(float_path, int8_path, calibration_images,
                  op_types=DEFAULT_OP_TYPES, per_channel=True,
                  method='minmax'):
    """Write the static int8 version (QDQ; signed weights, unsigned
    activations: the pairing ONNX Runtime's x86 kernels run fastest) of
    ``float_path``, calibrated on ``calibration_images``.

    onnxslim first folds constant subgraphs (a Conv on constants, as the
    positional encoding, would otherwise be quantized, and OpenVINO cannot
    compile that), then ONNX Runtime's pre-processing fuses what it can
    (Conv + BatchNorm) before QDQ pairs are placed; GELUs are fused first
    (see ``_fuse_gelu``). An opset 11/12 graph
    comes out at opset 13 with per-channel weights, at its own opset with
    per-tensor ones. On a CPU without VNNI the weights take 7 bits
    (``reduce_range``), as ONNX Runtime advises for its u8 x s8 kernels,
    which otherwise saturate."""
    import onnx
    import onnxslim
    prepared = str(int8_path) + '.prep.onnx'
    model = onnxslim.slim(onnx.load(str(float_path)))
    opset = next(o.version for o in model.opset_import
                 if o.domain in ('', 'ai.onnx'))
    if per_channel and opset < 13:
        # Per-channel DequantizeLinear (its axis) needs opset 13; a strict
        # opset-11 int8 graph takes per-tensor weights.
        model = onnx.version_converter.convert_version(model, 13)
    onnx.save(_fuse_gelu(model), prepared)
    quant_pre_process(prepared, prepared, skip_symbolic_shape=True)
    try:
        quantize_static(
            prepared, str(int8_path), _Reader(calibration_images),
            quant_format=QuantFormat.QDQ, op_types_to_quantize=list(op_types),
            per_channel=per_channel, reduce_range=not cpu_has_vnni(),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CALIBRATION_METHODS[method])
    finally:
        Path(prepared).unlink(missing_ok=True)
    return int8_path


def _iou(a, b):
    """IoU matrix of (N, 4) and (M, 4) boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None] - inter + 1e-9)


def compare_float_int8(cfg, float_path, int8_path, images, threads=None,
                       det_score=0.3, runtime='onnxruntime'):
    """How the int8 model's outputs differ from the float model's on
    ``images``: for classifiers top-1 agreement and logit differences
    (also relative to the float logits' standard deviation); for
    segmentors pixel agreement and the mIoU of the int8 label maps against
    the float ones; for detectors the share of float detections (score >=
    ``det_score``) that int8 finds again (same label, IoU >= 0.5) and the
    score differences of those. The float graph runs in ONNX Runtime, the
    int8 one in ``runtime``."""
    task = task_of(cfg)
    graphs = [load_runtime(float_path, threads),
              load_runtime(int8_path, threads, runtime)]
    pairs = [[g(img) for g in graphs] for img in images]
    if task == 'classifier':
        f = np.concatenate([a['logits'] for a, _ in pairs])
        q = np.concatenate([b['logits'] for _, b in pairs])
        diff = np.abs(f - q)
        return dict(images=len(f),
                    top1_agreement=float((f.argmax(1) == q.argmax(1)).mean()),
                    max_abs_diff=float(diff.max()),
                    mean_abs_diff=float(diff.mean()),
                    # the error on the scale of the logits themselves
                    mean_diff_over_std=float(diff.mean() / f.std()))
    if task == 'segmentor':
        key = 'labels' if 'labels' in pairs[0][0] else 'logits'
        f = np.concatenate([a[key] for a, _ in pairs])
        q = np.concatenate([b[key] for _, b in pairs])
        if key == 'logits':
            f, q = f.argmax(1), q.argmax(1)
        ious = [((f == c) & (q == c)).sum() / ((f == c) | (q == c)).sum()
                for c in np.unique(f)]
        return dict(images=len(f),
                    pixel_agreement=float((f == q).mean()),
                    miou_vs_float=float(np.mean(ious)))
    found, score_diffs = [], []
    for a, b in pairs:
        for img in range(len(a['labels'])):
            ref = a['scores'][img] >= det_score
            iou = _iou(a['boxes'][img][ref], b['boxes'][img])
            same = a['labels'][img][ref][:, None] == b['labels'][img][None]
            hits = (iou >= 0.5) & same
            found += hits.any(1).tolist()
            best = np.where(hits, iou, -1).argmax(1)
            score_diffs += np.abs(a['scores'][img][ref] - b['scores'][img][
                best])[hits.any(1)].tolist()
    return dict(images=len(pairs), float_detections=len(found),
                recovered=float(np.mean(found)) if found else float('nan'),
                max_score_diff=max(score_diffs, default=float('nan')),
                mean_score_diff=float(np.mean(score_diffs))
                if score_diffs else float('nan'))


def evaluate_onnx(cfg, path, limit=None, threads=None,
                  runtime='onnxruntime'):
    """The config's own test metric (CocoMetric, IoUMetric, Accuracy, ...)
    for an ONNX graph on the config's test set, the first ``limit`` images.

    Images come from the test pipeline and are resized to the graph's input
    if it differs; predictions are mapped back to the original image as the
    OpenMMLab models do (boxes divided by the scale factor, segmentation
    logits resized bilinearly, a label map by nearest neighbour).
    """
    import torch
    import torch.nn.functional as F
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DATASETS
    from mmengine.structures import InstanceData, PixelData

    task = task_of(cfg)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    graph = load_runtime(path, threads, runtime)
    h, w = graph.input_shape[2:]
    count = len(dataset) if limit is None else min(limit, len(dataset))
    for i in range(count):
        item = dataset[i]
        img, sample = item['inputs'][None].float(), item['data_samples']
        shape = img.shape[2:]
        if tuple(shape) != (h, w):
            img = F.interpolate(img, (h, w), mode='bilinear')
        out = {k: torch.from_numpy(v)[0]
               for k, v in graph(img).items()}
        if task == 'classifier':
            sample.set_pred_score(out['logits'].softmax(0))
        elif task == 'detector':
            keep = out['labels'] >= 0
            # back to the pipeline's image, then to the original one
            scale = out['boxes'].new_tensor(
                [shape[1] / w, shape[0] / h] * 2) / out['boxes'].new_tensor(
                    list(sample.scale_factor) * 2)
            sample.pred_instances = InstanceData(
                bboxes=out['boxes'][keep] * scale,
                scores=out['scores'][keep], labels=out['labels'][keep])
        else:
            ori = tuple(sample.ori_shape)
            if 'logits' in out:
                labels = F.interpolate(out['logits'][None], ori,
                                       mode='bilinear')[0].argmax(0)
            else:
                labels = F.interpolate(out['labels'][None, None].float(),
                                       ori, mode='nearest')[0, 0].long()
            sample.pred_sem_seg = PixelData(data=labels[None])
        evaluator.process([sample])
    return evaluator.evaluate(count)
