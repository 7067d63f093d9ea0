"""Static int8 quantization of an exported graph with ONNX Runtime, and how
far the int8 model's outputs move from the float model's (calibration and
comparison images come from :func:`pipeline_images`)."""
from pathlib import Path

from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                      QuantFormat, QuantType,
                                      quant_pre_process, quantize_static)

from .runtimes import cpu_has_vnni, load_runtime
from .tasks import task_for

# Ops with weights; norms, softmax and the detector's post-processing
# stay float.
DEFAULT_OP_TYPES = ('Conv', 'MatMul', 'Gemm')
CALIBRATION_METHODS = {m.name.lower(): m for m in CalibrationMethod}
# Points of the config's test metric int8 may lose: issue 12's target of
# at most 0.01 COCO mAP, i.e. one point, for every task (one point of top-1
# or of mIoU).
MAX_DROP = 1.0


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


def compare_float_int8(cfg, float_path, int8_path, images, threads=None,
                       runtime='onnxruntime'):
    """How the int8 model's outputs differ from the float model's on
    ``images``, in the task's terms (:meth:`DeployTask.compare_int8`). The
    float graph runs in ONNX Runtime, the int8 one in ``runtime``."""
    graphs = [load_runtime(float_path, threads),
              load_runtime(int8_path, threads, runtime)]
    pairs = [[g(img) for g in graphs] for img in images]
    return task_for(cfg).compare_int8(pairs)


def metric_drop(cfg, float_metrics, int8_metrics):
    """(key, points) of the test metric int8 is held to: the first of the
    evaluator's keys (``Runner.test()`` results) that names one of the
    task's ``quality_metrics``, and how many points (percent) int8 scores
    below float on it."""
    task = task_for(cfg)
    key = next((k for k in float_metrics
                if k.split('/')[-1] in task.quality_metrics), None)
    if key is None:
        raise ValueError(f'none of {", ".join(float_metrics)} is a '
                         f'{task.name} metric int8 is held to '
                         f'({", ".join(task.quality_metrics)})')
    return key, (float_metrics[key] - int8_metrics[key]) * task.metric_points
