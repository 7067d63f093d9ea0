"""Static int8 quantization of an exported graph, for ONNX Runtime (its
quantizer: a QDQ ONNX file, which OpenVINO runs too) or OpenVINO (NNCF: an
OpenVINO IR file), and how far the int8 model's outputs and test metric
move from the float model's (calibration and comparison images come from
:func:`~.images.pipeline_images`)."""
from pathlib import Path

import numpy as np
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                      QuantFormat, QuantType,
                                      quant_pre_process, quantize_static)

from .runtimes import RUNTIMES, cpu_has_vnni, load_runtime, openvino
from .tasks import deploy_task

# ONNX Runtime's quantizer: ops with weights (norms, softmax and the
# detector's post-processing stay float), weights per channel, min/max
# calibration.
DEFAULT_OP_TYPES = ('Conv', 'MatMul', 'Gemm')
CALIBRATION_METHODS = {m.name.lower(): m for m in CalibrationMethod}


class _Reader(CalibrationDataReader):

    def __init__(self, images):
        self._images = iter(images)

    def get_next(self):
        img = next(self._images, None)
        return None if img is None else {'image': img}


# Points of the config's test metric int8 may lose: the detector's target
# of at most 0.01 COCO mAP (docs/deploy_benchmark.md), i.e. one point, for
# every task (one point of top-1 or of mIoU).
MAX_DROP = 1.0


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


def _quantize_onnxruntime(float_path, int8_path, calibration_images,
                          op_types, per_channel, method):
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


def _nncf():
    try:
        import nncf
    except ImportError:
        raise ImportError('NNCF is not installed: pip install nncf (or pip '
                          "install 'mmedgenext[openvino]')") from None
    except AttributeError as e:  # NNCF 3 reads torch.uint16 (torch 2.3)
        import torch
        raise ImportError(
            f'The installed NNCF does not import with torch '
            f'{torch.__version__} ({e}): pip install "nncf<3" (2.19, which '
            'imports on torch 2.1; tools/setup_env.sh installs it), or use '
            'ONNX Runtime\'s int8 (quantize_onnx.py --runtime '
            'onnxruntime)') from None
    return nncf


def _attention_ops(model):
    """Names of the ops of an OpenVINO model that multiply two activations:
    the attentions' products (XCA's), fused into ScaledDotProductAttention
    by OpenVINO's converter at some input sizes, MatMuls at others."""
    def activation(value):
        return value.get_node().get_type_name() != 'Constant'
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if op.get_type_name() == 'ScaledDotProductAttention' or
            op.get_type_name() == 'MatMul' and all(
                activation(v) for v in op.input_values())]


def _quantize_openvino(float_path, int8_path, calibration_images):
    """Post-training int8 quantization of an exported graph by NNCF for
    OpenVINO, written as OpenVINO IR (``int8_path``: .xml beside a .bin).

    The graph is read as OpenVINO's converter reads an ONNX file, whose
    transformations fuse the channel-axis LayerNorms into MVN, each GELU
    into one op and the attention into ScaledDotProductAttention, so that
    NNCF quantizes them as what they are (read as plain nodes, NNCF
    quantized the norms' squared deviations and the inside of each GELU,
    and the LayerNorm classifier's int8 ran slower than its fp32).
    NNCF places FakeQuantize where OpenVINO's CPU plugin fuses it into its
    int8 kernels (activations included), which the QDQ graph of
    ONNX Runtime's quantizer does not give it; the mixed preset quantizes
    activations asymmetrically (Hardswish/GELU outputs are one-sided).
    A graph with LayerNorms (MVN) is quantized as NNCF's transformer type,
    which halved the int8 error of a trained LayerNorm classifier at the
    same speed (the BatchNorm family ran 5% slower that way and keeps the
    default). The attentions stay float: quantized, their fused op crashed
    OpenVINO 2026.4's CPU plugin at batch 8, and they are a sliver of the
    time.
    Without VNNI, x86 int8 products saturate at 16 bits: NNCF's overflow
    fix (7-bit weights) is then applied to every layer, not only the
    first (a trained BN classifier's top-1 agreement with float: 91%,
    against 88% with the first layer's fix only)."""
    ov, nncf = openvino(), _nncf()
    model = ov.convert_model(str(float_path))
    images = [np.asarray(img, np.float32) for img in calibration_images]
    params = nncf.AdvancedQuantizationParameters(
        overflow_fix=nncf.OverflowFix.DISABLE if cpu_has_vnni() else
        nncf.OverflowFix.ENABLE)
    layer_norms = any(op.get_type_name() == 'MVN'
                      for op in model.get_ordered_ops())
    quantized = nncf.quantize(
        model, nncf.Dataset(images), preset=nncf.QuantizationPreset.MIXED,
        model_type=nncf.ModelType.TRANSFORMER if layer_norms else None,
        ignored_scope=nncf.IgnoredScope(names=_attention_ops(model),
                                        validate=False),
        advanced_parameters=params, subset_size=len(images))
    ov.save_model(quantized, str(int8_path))
    return int8_path


def _onnxruntime_options(runtime, op_types, per_channel, method):
    """ONNX Runtime's quantizer options with their defaults filled in;
    ValueError for any given to NNCF, which has none of them."""
    if runtime not in RUNTIMES:
        raise ValueError(f'runtime must be one of {", ".join(RUNTIMES)}, '
                         f'got {runtime!r}')
    given = [name for name, value in (('op_types', op_types),
                                      ('per_channel', per_channel),
                                      ('method', method))
             if value is not None]
    if runtime == 'openvino' and given:
        raise ValueError(f'{", ".join(given)}: options of ONNX Runtime\'s '
                         'quantizer, not of NNCF (runtime openvino)')
    if method is not None and method not in CALIBRATION_METHODS:
        raise ValueError(f'method must be one of '
                         f'{", ".join(CALIBRATION_METHODS)}, got {method!r}')
    return (tuple(op_types or DEFAULT_OP_TYPES),
            True if per_channel is None else per_channel, method or 'minmax')


def quantization_recipe(runtime='onnxruntime', op_types=None,
                        per_channel=None, method=None):
    """One line naming what :func:`quantize` does with these arguments."""
    op_types, per_channel, method = _onnxruntime_options(
        runtime, op_types, per_channel, method)
    if runtime == 'openvino':
        return ('NNCF, mixed preset, transformer type with LayerNorms, '
                'attention float')
    return (f'{method}, {"per-channel" if per_channel else "per-tensor"} '
            f'weights, {"/".join(op_types)}')


def quantize(float_path, out_path, images, runtime='onnxruntime',
             op_types=None, per_channel=None, method=None):
    """Write the static int8 version of the exported graph ``float_path``,
    calibrated on ``images`` (float (1, 3, H, W) arrays), for ``runtime``:

    - 'onnxruntime': ONNX Runtime's quantizer, a QDQ ONNX file (OpenVINO
      runs it too), quantizing ``op_types`` (default Conv, MatMul, Gemm)
      with weights ``per_channel`` (default) or per tensor, activation
      ranges by ``method`` (default 'minmax'; see ``CALIBRATION_METHODS``);
    - 'openvino': NNCF, an OpenVINO IR file (``out_path`` .xml and a .bin);
      ONNX Runtime's options are refused (ValueError).

    Returns ``out_path``."""
    op_types, per_channel, method = _onnxruntime_options(
        runtime, op_types, per_channel, method)
    if runtime == 'openvino':
        return _quantize_openvino(float_path, out_path, images)
    return _quantize_onnxruntime(float_path, out_path, images, op_types,
                                 per_channel, method)


def compare_float_int8(cfg, float_path, int8_path, images, threads=None,
                       runtime='onnxruntime'):
    """How the int8 model's outputs differ from the float model's on
    ``images``, in the task's terms (:meth:`DeployTask.compare_int8`). The
    float graph runs in ONNX Runtime, the int8 one in ``runtime``."""
    graphs = [load_runtime(float_path, threads=threads),
              load_runtime(int8_path, runtime, threads=threads)]
    pairs = [[g(img) for g in graphs] for img in images]
    return deploy_task(cfg).compare_int8(pairs)


def metric_drop(cfg, float_metrics, int8_metrics):
    """(key, points) of the test metric int8 is held to: the first of the
    evaluator's keys (``Runner.test()`` results) that names one of the
    task's ``quality_metrics``, and how many points (percent) int8 scores
    below float on it."""
    task = deploy_task(cfg)
    key = next((k for k in float_metrics
                if k.split('/')[-1] in task.quality_metrics), None)
    if key is None:
        raise ValueError(f'none of {", ".join(float_metrics)} is a '
                         f'{task.name} metric int8 is held to '
                         f'({", ".join(task.quality_metrics)})')
    return key, (float_metrics[key] - int8_metrics[key]) * task.metric_points
