"""Inference sessions for the exported graphs, for every runtime and
precision in one place: ONNX Runtime (CPU, or CUDA first) and OpenVINO's CPU
plugin, in fp32 or bf16; an int8 graph is a file of its own
(:func:`~.quantize.quantize`) run the same way. Also what the CPU offers
them (int8 dot products, bf16).

The runtimes are imported where a session is made: the package imports
without them (the light :mod:`mmedgenext.apis` needs none).
"""
import collections
import os
import platform

import numpy as np

RUNTIMES = ('onnxruntime', 'openvino')
PRECISIONS = ('fp32', 'bf16')  # int8: the graph file itself
NO_NATIVE_BF16 = 'no native bf16 on this CPU'
NO_ORT_BF16 = 'no bf16 kernels in ONNX Runtime CPU'
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


def openvino():
    """The openvino module, or ImportError saying how to install it."""
    try:
        import openvino
    except ImportError:
        raise ImportError('OpenVINO is not installed: pip install openvino '
                          "(or pip install 'mmedgenext[openvino]')") from None
    return openvino


def has_openvino():
    """Whether OpenVINO is installed."""
    try:
        openvino()
    except ImportError:
        return False
    return True


class RuntimeCrash(RuntimeError):
    """A runtime died natively (a signal, not an exception) running a
    graph, in the child process where it was tried first."""


# Run by check_in_child in a fresh interpreter: this file loaded on its own
# (numpy and the runtime imported, not the package), the graph run as the
# parent would run it.
_CHILD = """
import importlib.util, sys
import numpy as np
spec = importlib.util.spec_from_file_location('runtimes', sys.argv[1])
runtimes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtimes)
path, runtime, precision, threads, img = sys.argv[2:]
graph = runtimes.load_runtime(path, runtime, precision,
                              threads=int(threads) or None, isolate=False)
graph(np.load(img))
"""
_CHECKED = set()
CHILD_TIMEOUT = 600  # s: compiling and running one input, on a slow CPU
# What to try when a runtime crashes on a graph (OpenVINO's runs are
# isolated: ONNX Runtime has not crashed on ours).
CRASH_ADVICE = {
    'openvino': ('OpenVINO\'s CPU plugin is known to crash on int8 IRs on '
                 'CPUs with AMX (openvinotoolkit/openvino#37577). Try ONNX '
                 "Runtime's int8 (quantize_onnx.py --runtime onnxruntime: "
                 'its QDQ file runs in OpenVINO too), ONEDNN_MAX_CPU_ISA='
                 'AVX512_CORE_BF16 (OpenVINO\'s kernels without AMX), or '
                 'another OpenVINO release; OpenVINO\'s issue tracker wants '
                 'this graph file.'),
}


def check_in_child(path, runtime, img, precision='fp32', threads=None):
    """Run ``path`` in ``runtime`` on ``img`` once in a child process, so
    that a native crash there becomes :class:`RuntimeCrash` naming the
    runtime, the graph, the input shape and what to try, instead of ending
    this process. Each file (as it is on disk) and shape is tried once per
    process; an exception in the child is left for this process to raise.
    """
    import signal
    import subprocess
    import sys
    import tempfile
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_mtime_ns, stat.st_size, runtime,
           precision, threads, tuple(img.shape))
    if key in _CHECKED:
        return
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, 'img.npy'), img)
        try:
            child = subprocess.run(
                [sys.executable, '-c', _CHILD, __file__, str(path), runtime,
                 precision, str(threads or 0), os.path.join(tmp, 'img.npy')],
                capture_output=True, text=True, timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeCrash(
                f'{runtime_version(runtime)} did not finish running {path} '
                f'on a {tuple(img.shape)} input in {CHILD_TIMEOUT} s, in a '
                'child process tried before this one (hung?). '
                f'{CRASH_ADVICE.get(runtime, "")}') from None
    if child.returncode < 0:
        name = signal.Signals(-child.returncode).name
        version = runtime_version(runtime)
        raise RuntimeCrash(
            f'{version} crashed ({name}) running {path} on a '
            f'{tuple(img.shape)} input, in a child process tried before '
            f'this one. {CRASH_ADVICE.get(runtime, "")}'
            + (f'\nIts last output: {child.stderr[-1000:]}'
               if child.stderr.strip() else ''))
    _CHECKED.add(key)


def runtime_version(runtime):
    """'OpenVINO 2026.4.1'-like: the runtime and its installed version."""
    from importlib.metadata import version
    name, package = {'openvino': ('OpenVINO', 'openvino'),
                     'onnxruntime': ('ONNX Runtime', 'onnxruntime')}[runtime]
    return f'{name} {version(package)}'


def graph_file_mb(path):
    """Size of a graph on disk: an ONNX file, or OpenVINO IR's .xml and the
    .bin beside it."""
    size = os.path.getsize(path)
    if str(path).endswith('.xml'):
        size += os.path.getsize(os.path.splitext(path)[0] + '.bin')
    return size / 2**20


class OnnxRuntimeGraph:
    """An ONNX file in an ONNX Runtime session: float (B, 3, H, W) BGR
    0-255 images -> outputs by name.

    ``spin=False`` lets idle worker threads sleep at once (what a benchmark
    that interleaves runtimes on the same cores needs); ``profile_dir``
    turns on ONNX Runtime's profiler, writing there; ``optimized_path``
    saves the graph the session runs, after its fusions.
    """

    def __init__(self, path, threads=None, device='cpu', spin=True,
                 profile_dir=None, optimized_path=None):
        import onnxruntime as ort
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        if not spin:
            options.add_session_config_entry('session.intra_op.allow_spinning',
                                             '0')
        options.log_severity_level = 3
        if profile_dir:
            options.enable_profiling = True
            options.profile_file_prefix = os.path.join(profile_dir, 'profile')
        if optimized_path:
            options.optimized_model_filepath = str(optimized_path)
        providers = (['CUDAExecutionProvider'] if device == 'cuda' else
                     []) + ['CPUExecutionProvider']
        self.session = ort.InferenceSession(str(path), options,
                                            providers=providers)
        # free axes (named in the file) as None, as OpenVINOGraph's
        self.input_shape = [d if isinstance(d, int) else None
                            for d in self.session.get_inputs()[0].shape]
        self.output_names = [o.name for o in self.session.get_outputs()]

    @property
    def threads(self):
        """The intra-op threads asked for (0: ONNX Runtime's default)."""
        return self.session.get_session_options().intra_op_num_threads

    def __call__(self, img):
        values = self.session.run(self.output_names,
                                  {'image': np.asarray(img, np.float32)})
        return dict(zip(self.output_names, values))


class OpenVINOGraph:
    """An ONNX file (or OpenVINO IR) compiled by OpenVINO for its CPU
    plugin, called as :class:`OnnxRuntimeGraph`.

    A QDQ int8 graph (ONNX Runtime's quantizer) runs in int8: OpenVINO
    turns each QuantizeLinear/DequantizeLinear pair into a FakeQuantize and
    its low-precision passes fuse them into int8 kernels. ``precision``
    'bf16' asks the CPU plugin for bf16 inference (ValueError on a CPU
    without native bf16, where the plugin would stay in fp32); ``profile``
    turns on its per-layer counters (``request.get_profiling_info()``).

    A graph with free axes (batch, height, width) is compiled for the
    static shape of each call, the last ``cached_shapes`` kept: OpenVINO's
    CPU plugin crashes running NNCF int8 IRs with a dynamic input on CPUs
    with AMX (openvinotoolkit/openvino#37577; our SSDLite IR with a free
    batch, on a Xeon with AVX-512 VNNI and AMX). With ``isolate`` each new
    shape runs in a child process first (:func:`check_in_child`).
    """
    cached_shapes = 4

    def __init__(self, path, threads=None, precision='fp32', profile=False,
                 isolate=True):
        ov = openvino()
        if precision == 'bf16' and not cpu_has_bf16():
            # its plugin would silently stay in fp32
            raise ValueError(NO_NATIVE_BF16)
        config = {'PERFORMANCE_HINT': 'LATENCY',
                  'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16'
                  else 'f32'}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        if profile:
            config['PERF_COUNT'] = True
        self._core, self._config = ov.Core(), config
        self._path, self._precision, self._threads = path, precision, threads
        self._isolate = isolate
        self._model = self._core.read_model(str(path))
        self.input_shape = [d.get_length() if d.is_static else None
                            for d in self._model.inputs[0].partial_shape]
        self.output_names = [o.get_any_name() for o in self._model.outputs]
        self._compiled = collections.OrderedDict()  # shape: (model, request)

    def _compile(self, shape, img=None):
        """The compiled model and request for input ``shape``, made the
        current ones (``compiled``, ``request``). A shape is first run in a
        child process (on ``img``, else zeros): see
        :func:`check_in_child`."""
        if shape not in self._compiled:
            if self._isolate:
                check_in_child(self._path, 'openvino',
                               np.zeros(shape, np.float32) if img is None
                               else img, self._precision, self._threads)
            if None in self.input_shape:
                self._model.reshape({0: list(shape)})
            compiled = self._core.compile_model(self._model, 'CPU',
                                                self._config)
            self._compiled[shape] = compiled, compiled.create_infer_request()
            if len(self._compiled) > self.cached_shapes:
                self._compiled.popitem(last=False)
        self._compiled.move_to_end(shape)
        self.compiled, self.request = self._compiled[shape]

    @property
    def threads(self):
        """The inference threads the compiled model uses (a graph with free
        axes not called yet: as the plugin compiles it with them free)."""
        if self._compiled:
            compiled = self.compiled
        elif None not in self.input_shape:
            self._compile(tuple(self.input_shape))
            compiled = self.compiled
        else:  # compiling with free axes is safe; running it may not be
            compiled = self._core.compile_model(self._model, 'CPU',
                                                self._config)
        return int(compiled.get_property('INFERENCE_NUM_THREADS'))

    def __call__(self, img):
        img = np.asarray(img, np.float32)
        self._compile(img.shape, img)
        result = self.request.infer({0: img})
        return {name: result[out] for name, out in zip(
            self.output_names, self.compiled.outputs)}


def load_runtime(path, runtime='onnxruntime', precision='fp32',
                 threads=None, device='cpu', spin=True, profile=None,
                 optimized_path=None, isolate=True):
    """A session for the graph at ``path`` in ``runtime``, computing in
    ``precision`` (fp32 or bf16; an int8 file computes in int8 either way):
    a callable from float (B, 3, H, W) images to outputs by name.

    ``profile``: ONNX Runtime's profile folder, OpenVINO's per-layer
    counters (true). ValueError for a combination that cannot run, saying
    why (ONNX Runtime has no bf16 CPU kernels, OpenVINO no GPU here, a CPU
    without native bf16). ``isolate``: OpenVINO runs each new input shape
    in a child process first (:func:`check_in_child`)."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {", ".join(PRECISIONS)} '
                         f'(int8 comes from the graph file), got '
                         f'{precision!r}')
    if runtime == 'onnxruntime':
        if precision == 'bf16':
            raise ValueError(NO_ORT_BF16)
        return OnnxRuntimeGraph(path, threads, device, spin, profile,
                                optimized_path)
    if runtime == 'openvino':
        if device != 'cpu':
            raise ValueError(f'OpenVINO runs on the CPU here, not {device}')
        if optimized_path:
            raise ValueError('optimized_path is ONNX Runtime\'s')
        return OpenVINOGraph(path, threads, precision, bool(profile),
                             isolate)
    raise ValueError(f'runtime must be one of {", ".join(RUNTIMES)}, got '
                     f'{runtime!r}')
