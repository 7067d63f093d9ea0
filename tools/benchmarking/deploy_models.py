"""Latency of the deployable models in each runtime and precision, as
tools/benchmark_deploy.py measures it: PyTorch eager and torch.compile run
the model as trained; ONNX Runtime and OpenVINO the ONNX export of its
deploy form (:func:`mmedgenext.deploy.switch_to_deploy`), in fp32, bf16, or
int8 as :func:`mmedgenext.deploy.quantize.quantize` makes it for that
runtime.

The models: reference classifiers exported the same way (timm's EdgeNeXt of
the variant, torchvision's MobileNetV2), the bare backbone (four maps), and
the classifier, SSDLite detector (NMS included) and DeepLabv3 segmentor
(label map) of the variant's configs.
"""
import datetime
import itertools
import os
import os.path as osp
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn as nn

from mmedgenext.deploy import (deploy_graph, export_onnx, load_runtime,
                               noise_images, switch_to_deploy)
from mmedgenext.deploy.quantize import quantize
from mmedgenext.deploy.runtimes import (CPU_FEATURES, NO_NATIVE_BF16, RUNTIMES,
                                        cpu_has_bf16, cpu_info)
from .timing import measure

# The configs of the deployable models, by variant.
CONFIGS = {
    'classifier': 'edgenext_{}_in1k.py',
    'detector': 'ssdlite_edgenext_{}_coco.py',
    'segmentor': 'deeplabv3_edgenext_{}_voc12aug.py',
}
MODELS = ('timm', 'mobilenet_v2', 'backbone', *CONFIGS)
ENGINES = ('eager', 'compile', *RUNTIMES)
PRECISIONS = ('fp32', 'int8', 'bf16')
_REFERENCE_SIZE = 256  # of the models without a config: ImageNet's


class _Exportable(nn.Module):
    """A plain module with the output names :func:`export_onnx` needs."""

    def __init__(self, module, output_names):
        super().__init__()
        self.module = module
        self.output_names = output_names

    def forward(self, x):
        return self.module(x)


@dataclass
class DeployModel:
    """One model to time: ``build(size)`` gives (input side, the module as
    trained, its deploy form); ``size`` None: the model's own."""
    arch: str
    name: str
    build: callable


def _reference(name, arch, size):
    if name == 'timm':
        import timm
        module = timm.create_model(f'edgenext_{arch}')
    else:
        from torchvision.models import mobilenet_v2
        module = mobilenet_v2()
    model = _Exportable(module, ['logits']).eval()
    return size or _REFERENCE_SIZE, model, model


def _backbone(arch, size):
    from mmedgenext.models import EdgeNeXt
    model = _Exportable(EdgeNeXt(arch), [f'out{i}' for i in range(4)])
    model.eval()
    return size or _REFERENCE_SIZE, model, switch_to_deploy(model)


def _configured(path, size):
    from mmedgenext.apis import build_model, input_shape, load_config
    cfg = load_config(path)
    side = size or input_shape(cfg)[0]
    model = build_model(cfg)
    return side, deploy_graph(cfg, model, (side, side),
                              deploy_form=False), deploy_graph(
                                  cfg, model, (side, side))


def deploy_models(archs, names, config_dir):
    """The :class:`DeployModel` of each of ``names`` (:data:`MODELS`) for
    each EdgeNeXt variant of ``archs``; MobileNetV2 once, its variant
    '-'. Configs are looked up in ``config_dir``; FileNotFoundError naming
    every one missing, ValueError for a variant timm does not have."""
    import timm
    unknown = set(names) - set(MODELS)
    if unknown:
        raise ValueError(f'models must be among {", ".join(MODELS)}, got '
                         f'{", ".join(sorted(unknown))}')
    models, missing = [], []
    if 'mobilenet_v2' in names:
        models.append(DeployModel('-', 'torchvision mobilenet_v2',
                                  partial(_reference, 'mobilenet_v2', None)))
    for arch, name in itertools.product(archs, names):
        if name == 'timm':
            if f'edgenext_{arch}' not in timm.list_models('edgenext_*'):
                raise ValueError(f'timm has no edgenext_{arch}')
            models.append(DeployModel(arch, f'timm edgenext_{arch}',
                                      partial(_reference, name, arch)))
        elif name == 'backbone':
            models.append(DeployModel(arch, 'backbone (4 maps)',
                                      partial(_backbone, arch)))
        elif name in CONFIGS:
            path = osp.join(config_dir, CONFIGS[name].format(arch))
            if not osp.isfile(path):
                missing.append(path)
            models.append(DeployModel(arch, name, partial(_configured, path)))
    if missing:
        raise FileNotFoundError(f'no config for {len(missing)} of the '
                                f'models asked for: {", ".join(missing)}')
    return models


@dataclass
class Runnable:
    """A model in one runtime and precision: ``fn`` runs a batch (the torch
    tensor, or with ``host`` its numpy copy on the host); ``threads`` are
    the ones the runtime says it uses."""
    fn: callable
    threads: int
    host: bool = False


def _with_autocast(fn, device):
    def run(x):
        with torch.autocast(device.type, torch.bfloat16):
            return fn(x)
    return run


def _pytorch(graph, engine, precision, side, device, batch_sizes):
    if precision == 'int8':
        return 'int8 runs in the ONNX runtimes'
    if precision == 'bf16' and device.type == 'cpu' and not cpu_has_bf16():
        return NO_NATIVE_BF16
    fn = graph if engine == 'eager' else torch.compile(graph)
    if precision == 'bf16':
        fn = _with_autocast(fn, device)
    if engine == 'compile':
        try:  # compile now, for each batch size, and report failures
            with torch.inference_mode():
                for batch in batch_sizes:
                    fn(torch.zeros(batch, 3, side, side, device=device))
        except Exception as e:  # inductor fails in many ways
            return type(e).__name__
    return Runnable(fn, torch.get_num_threads())


def runnables(graph, deployed, side, engines, precisions, device, tmpdir,
              threads=None, batch_sizes=(1, 8)):
    """A :class:`Runnable` per (engine, precision) of ``engines`` x
    ``precisions``, or the reason it cannot run. The ONNX runtimes take
    ``deployed`` exported with a free batch size (and, for int8, quantized
    on noise images: calibration content does not change the kernels that
    run), with ``threads`` threads each."""
    out = {}
    onnx_path = None
    calibration = [noise_images(1, (side, side), seed=i).numpy()
                   for i in range(4)]
    for engine, precision in itertools.product(engines, precisions):
        if engine in ('eager', 'compile'):
            out[engine, precision] = _pytorch(graph, engine, precision, side,
                                              device, batch_sizes)
            continue
        if onnx_path is None:
            onnx_path = osp.join(tmpdir, 'model.onnx')
            export_onnx(deployed.cpu(), onnx_path, (side, side),
                        dynamic_batch=True)
            deployed.to(device)
        path = onnx_path
        try:
            if precision == 'int8':
                suffix = '.xml' if engine == 'openvino' else '.onnx'
                path = quantize(onnx_path, osp.join(tmpdir, engine + suffix),
                                calibration, runtime=engine)
            session = load_runtime(
                path, engine, 'bf16' if precision == 'bf16' else 'fp32',
                threads=threads, device=device.type, spin=False)
        except (ValueError, ImportError) as e:
            out[engine, precision] = str(e)
            continue
        out[engine, precision] = Runnable(session, session.threads, True)
    return out


def time_runnables(runnables_, side, batch_sizes, rounds, device):
    """:class:`~.timing.Timings` of the runnables (the
    :class:`Runnable` values of ``runnables_``) per batch size, on the same
    random 0-255 batch, interleaved."""
    timings = {}
    for batch in batch_sizes:
        x = torch.rand(batch, 3, side, side, device=device).mul(255)
        host = x.cpu().numpy()
        timings[batch] = measure(
            {key: partial(r.fn, host if r.host else x)
             for key, r in runnables_.items() if isinstance(r, Runnable)},
            rounds, device=device)
    return timings


def environment(command):
    """Lines saying where and with what the numbers were measured."""
    import onnxruntime
    name, features = cpu_info()
    versions = [f'torch {torch.__version__}',
                f'onnxruntime {onnxruntime.__version__}']
    try:
        import openvino
        versions.append(f'openvino {openvino.__version__.split("-")[0]}')
    except ImportError:
        versions.append('openvino not installed')
    return [f'date: {datetime.date.today()}',
            f'command: {command}',
            f'CPU: {name}, {os.cpu_count()} logical cores, features: '
            f'{" ".join(features) or "none of " + " ".join(CPU_FEATURES)}',
            f'PyTorch threads: {torch.get_num_threads()}; ' +
            ', '.join(versions)]
