"""Inference runtimes for the exported graphs beside ONNX Runtime
(OpenVINO), and what the CPU offers them (int8 dot products, bf16)."""
import platform

import numpy as np

from .verify import onnx_session, run_onnx

# /proc/cpuinfo flags that decide int8 and bf16 speed on x86.
CPU_FEATURES = ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'avx512_bf16',
                'amx_int8', 'amx_bf16')


def cpu_info():
    """(model name, the CPU_FEATURES this CPU has)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() == 'model name':
                    name = value.strip()
                elif key.strip() == 'flags':
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return name, [f for f in CPU_FEATURES if f in flags]


def cpu_has_vnni():
    """int8 dot products without 16-bit saturation (AVX-512 VNNI, AVX-VNNI
    or AMX). Without them x86 int8 kernels add pairs of u8 x s8 products in
    16 bits, which saturates unless weights use 7 bits."""
    return bool({'avx512_vnni', 'avx_vnni', 'amx_int8'} & set(cpu_info()[1]))


def cpu_has_bf16():
    """Native bf16 arithmetic (AVX-512 BF16 or AMX); without it PyTorch and
    the runtimes emulate bf16, slower than fp32."""
    return bool({'avx512_bf16', 'amx_bf16'} & set(cpu_info()[1]))


def _openvino():
    try:
        import openvino
    except ImportError:
        raise ImportError('OpenVINO is not installed: pip install openvino '
                          "(or pip install 'mmedgenext[openvino]')") from None
    return openvino


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


class OnnxRuntimeModel:
    """An ONNX file in ONNX Runtime (CPU), called like OpenVINOModel."""

    def __init__(self, path, threads=None):
        self.session = onnx_session(path, threads)
        self.input_shape = self.session.get_inputs()[0].shape

    def __call__(self, img):
        return run_onnx(self.session, img)


def load_runtime(path, threads=None, runtime='onnxruntime'):
    """A callable graph: float (B, 3, H, W) images -> outputs by name."""
    if runtime == 'openvino':
        return OpenVINOModel(path, threads)
    if runtime != 'onnxruntime':
        raise ValueError(f'runtime must be onnxruntime or openvino, got '
                         f'{runtime!r}')
    return OnnxRuntimeModel(path, threads)


def quantize_openvino(float_path, int8_path, calibration_images):
    """Post-training int8 quantization of an exported graph by NNCF for
    OpenVINO, written as OpenVINO IR (``int8_path``: .xml beside a .bin).

    NNCF places FakeQuantize where OpenVINO's CPU plugin fuses it into its
    int8 kernels (activations included), which the QDQ graph of
    ONNX Runtime's quantizer does not give it; the mixed preset quantizes
    activations asymmetrically (Hardswish/GELU outputs are one-sided).
    Without VNNI, x86 int8 products saturate at 16 bits: NNCF's overflow
    fix (7-bit weights) is then applied to every layer, not only the
    first (the agreement of a trained BN classifier rose from 88% to
    91%)."""
    ov, nncf = _openvino(), _nncf()
    model = ov.Core().read_model(str(float_path))
    images = [np.asarray(img, np.float32) for img in calibration_images]
    params = nncf.AdvancedQuantizationParameters(
        overflow_fix=nncf.OverflowFix.DISABLE if cpu_has_vnni() else
        nncf.OverflowFix.ENABLE)
    quantized = nncf.quantize(model, nncf.Dataset(images),
                              preset=nncf.QuantizationPreset.MIXED,
                              advanced_parameters=params,
                              subset_size=len(images))
    ov.save_model(quantized, str(int8_path))
    return int8_path


class OpenVINOModel:
    """An ONNX file (or OpenVINO IR) compiled by OpenVINO for its CPU
    plugin, called like :func:`run_onnx`: float (B, 3, H, W) images ->
    outputs by name.

    A QDQ int8 graph (``quantize_onnx``) runs in int8: OpenVINO turns each
    QuantizeLinear/DequantizeLinear pair into a FakeQuantize and its
    low-precision passes fuse them into int8 kernels. ``precision`` 'bf16'
    asks the CPU plugin for bf16 inference (ValueError on a CPU without
    it, where the plugin would silently stay in fp32); ``profile`` turns on
    its per-layer counters (:func:`~.profile.profile_openvino`).
    """

    def __init__(self, path, threads=None, precision='fp32', profile=False):
        ov = _openvino()
        if precision not in ('fp32', 'bf16'):
            raise ValueError(f'OpenVINO precision must be fp32 or bf16 (int8 '
                             f'comes from a QDQ graph), got {precision!r}')
        if precision == 'bf16' and not cpu_has_bf16():
            raise ValueError('this CPU has no native bf16 (avx512_bf16 or '
                             'amx_bf16): OpenVINO would run fp32')
        core = ov.Core()
        config = {'PERFORMANCE_HINT': 'LATENCY',
                  'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16'
                  else 'f32'}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        if profile:  # per-layer times (request.get_profiling_info())
            config['PERF_COUNT'] = True
        self.compiled = core.compile_model(str(path), 'CPU', config)
        self.request = self.compiled.create_infer_request()
        self.input_shape = [
            d.get_length() if d.is_static else None
            for d in self.compiled.inputs[0].partial_shape]
        self.output_names = [o.get_any_name() for o in self.compiled.outputs]

    def __call__(self, img):
        result = self.request.infer({0: np.asarray(img, np.float32)})
        return {name: result[out] for name, out in zip(
            self.output_names, self.compiled.outputs)}
