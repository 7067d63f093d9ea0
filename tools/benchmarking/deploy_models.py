"""Latency of the deployable models in each runtime and precision, as
tools/benchmark_deploy.py measures it: PyTorch eager and torch.compile run
the model as trained; ONNX Runtime and OpenVINO the ONNX export of its
deploy form for that runtime (:func:`mmedgenext.deploy.switch_to_deploy`),
in fp32, bf16, or int8 as :func:`mmedgenext.deploy.quantize.quantize` makes
it for that runtime.

The models: the classifier, SSDLite detector (NMS included) and DeepLabv3
segmentor (label map) of the variant's configs (a BN/Hardswish variant
without configs of its own takes its LayerNorm sibling's, the backbone's
arch set), the bare backbone (four maps), and the peers exported the same
way: timm's EdgeNeXt of the variant, torchvision's MobileNetV2 and
MobileNetV3-Large, EdgeFormer-S (ParC-Net, its config) and mmdet's own
SSDLite-MobileNetV2 config.
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
# Models timed once, whatever the variants: name -> (label, task).
PEERS = {
    'mobilenet_v2': ('MobileNetV2', 'classifier'),
    'mobilenet_v3_large': ('MobileNetV3-L', 'classifier'),
    'edgeformer': ('EdgeFormer-S', 'classifier'),
    'ssdlite_mobilenet_v2': ('SSDLite-MobileNetV2 (mmdet)', 'detector'),
}
MODELS = ('timm', *PEERS, 'backbone', *CONFIGS)
# What each task's models are held against in the summary (its label).
REFERENCE = {'classifier': 'MobileNetV2',
             'detector': 'SSDLite-MobileNetV2 (mmdet)'}
ENGINES = ('eager', 'compile', *RUNTIMES)
PRECISIONS = ('fp32', 'int8', 'bf16')
_REFERENCE_SIZE = 256  # of the models without a config: ImageNet's
_EDGEFORMER_CONFIG = 'edgeformer_s_in1k.py'
_MMDET_SSDLITE = ('ssd', 'ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py')
# torchvision's published ImageNet-1k top-1 of the weights the models
# would load (IMAGENET1K_V1; read from torchvision where it has them).
_TORCHVISION_WEIGHTS = {'mobilenet_v2': 'MobileNet_V2_Weights',
                        'mobilenet_v3_large': 'MobileNet_V3_Large_Weights'}


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
    trained, its deploy form by runtime); ``size`` None: the model's own.
    ``label`` names it in the summary and the chart, ``task`` says which
    reference it is held against, ``top1`` is the published ImageNet top-1
    of its release (classifiers; None where there is none)."""
    arch: str
    name: str
    build: callable
    label: str
    task: str
    top1: float = None
    family: str = ''


def _both_runtimes(module):
    return {runtime: module for runtime in RUNTIMES}


def _torchvision(name, size):
    import torchvision.models
    model = _Exportable(getattr(torchvision.models, name)(),
                        ['logits']).eval()
    return size or _REFERENCE_SIZE, model, _both_runtimes(model)


def _timm(arch, size):
    import timm
    model = _Exportable(timm.create_model(f'edgenext_{arch}'),
                        ['logits']).eval()
    return size or _REFERENCE_SIZE, model, _both_runtimes(model)


def _backbone(arch, size):
    from mmedgenext.models import EdgeNeXt
    model = _Exportable(EdgeNeXt(arch), [f'out{i}' for i in range(4)])
    model.eval()
    return size or _REFERENCE_SIZE, model, {
        runtime: switch_to_deploy(model, runtime) for runtime in RUNTIMES}


def _configured(path, options, size):
    from mmedgenext.apis import build_model, input_shape, load_config
    from mmedgenext.deploy import deploy_task
    cfg = load_config(path, options)
    side = size or input_shape(cfg)[0]
    model = build_model(cfg)
    deploy_task(cfg, model).work_around(model)  # mmdet's stock SSD config
    return side, deploy_graph(cfg, model, (side, side),
                              deploy_form=False), {
        runtime: deploy_graph(cfg, model, (side, side), runtime=runtime)
        for runtime in RUNTIMES}


def published_top1(config_dir, config=None, torchvision_name=None):
    """The published ImageNet-1k top-1 of a config's release (the
    metafile's ``Top 1 Accuracy``) or of torchvision's weights for a
    model; None where there is none."""
    if torchvision_name:
        import torchvision.models
        weights = getattr(torchvision.models,
                          _TORCHVISION_WEIGHTS[torchvision_name])
        return weights.IMAGENET1K_V1.meta['_metrics']['ImageNet-1K'][
            'acc@1']
    import yaml
    with open(osp.join(config_dir, 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    for model in models:
        if osp.basename(model.get('Config', '')) == config:
            for result in model.get('Results', []):
                top1 = result.get('Metrics', {}).get('Top 1 Accuracy')
                if top1 is not None:
                    return float(top1)
    return None


def _config_of(config_dir, name, arch):
    """(path, cfg options) of the ``name`` model of ``arch``: its own
    config, else for a BN/Hardswish variant its LayerNorm sibling's with
    the backbone's arch set."""
    path = osp.join(config_dir, CONFIGS[name].format(arch))
    sibling = arch[:-len('_bn_hs')] if arch.endswith('_bn_hs') else None
    if not osp.isfile(path) and sibling:
        other = osp.join(config_dir, CONFIGS[name].format(sibling))
        if osp.isfile(other):
            return other, {'model.backbone.arch': arch}
    return path, None


def deploy_models(archs, names, config_dir):
    """The :class:`DeployModel` of each of ``names`` (:data:`MODELS`) for
    each EdgeNeXt variant of ``archs``; each of :data:`PEERS` once, its
    variant '-'; timm's EdgeNeXt for the variants timm has. Configs are
    looked up in ``config_dir``; FileNotFoundError naming every one
    missing."""
    import mmdet
    import timm
    unknown = set(names) - set(MODELS)
    if unknown:
        raise ValueError(f'models must be among {", ".join(MODELS)}, got '
                         f'{", ".join(sorted(unknown))}')
    models, missing = [], []
    for name, (label, task) in PEERS.items():
        if name not in names:
            continue
        if name in _TORCHVISION_WEIGHTS:
            models.append(DeployModel(
                '-', f'torchvision {name}', partial(_torchvision, name),
                label, task, published_top1(config_dir, torchvision_name=name),
                family=label))
        elif name == 'edgeformer':
            path = osp.join(config_dir, _EDGEFORMER_CONFIG)
            models.append(DeployModel(
                '-', 'EdgeFormer-S classifier',
                partial(_configured, path, None), label, task,
                published_top1(config_dir, _EDGEFORMER_CONFIG),
                family=label))
        else:
            path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs',
                            *_MMDET_SSDLITE)
            models.append(DeployModel(
                '-', 'mmdet ssdlite_mobilenetv2 config',
                partial(_configured, path, None), label, task))
    for arch, name in itertools.product(archs, names):
        bn = arch.endswith('_bn_hs')
        family = 'EdgeNeXt BN/HS' if bn else 'EdgeNeXt'
        if name == 'timm':
            if f'edgenext_{arch}' not in timm.list_models('edgenext_*'):
                continue  # the BN/Hardswish variants: not in timm
            models.append(DeployModel(
                arch, f'timm edgenext_{arch}', partial(_timm, arch),
                f'timm EdgeNeXt-{arch}', 'classifier'))
        elif name == 'backbone':
            models.append(DeployModel(arch, 'backbone (4 maps)',
                                      partial(_backbone, arch),
                                      f'EdgeNeXt-{arch} backbone',
                                      'backbone'))
        elif name in CONFIGS:
            path, options = _config_of(config_dir, name, arch)
            if not osp.isfile(path):
                missing.append(path)
            label = {'classifier': f'EdgeNeXt-{arch}',
                     'detector': f'SSDLite-EdgeNeXt-{arch}',
                     'segmentor': f'DeepLabv3-EdgeNeXt-{arch}'}[name]
            top1 = (published_top1(config_dir, osp.basename(path))
                    if name == 'classifier' and osp.isfile(path) else None)
            models.append(DeployModel(
                arch, name, partial(_configured, path, options), label, name,
                top1, family=family))
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
    ``precisions``, or the reason it cannot run. Each ONNX runtime takes
    its own deploy form (``deployed[runtime]``) exported with a free batch
    size (and, for int8, quantized on noise images: calibration content
    does not change the kernels that run), with ``threads`` threads
    each."""
    out, exported = {}, {}
    calibration = [noise_images(1, (side, side), seed=i).numpy()
                   for i in range(4)]
    for engine, precision in itertools.product(engines, precisions):
        if engine in ('eager', 'compile'):
            out[engine, precision] = _pytorch(graph, engine, precision, side,
                                              device, batch_sizes)
            continue
        module = deployed[engine]
        if id(module) not in exported:
            path = osp.join(tmpdir, f'{engine}.onnx')
            export_onnx(module.cpu(), path, (side, side), dynamic_batch=True)
            module.to(device)
            exported[id(module)] = path
        path = exported[id(module)]
        try:
            if precision == 'int8':
                suffix = '.xml' if engine == 'openvino' else '.onnx'
                path = quantize(path, osp.join(tmpdir, f'{engine}_int8' +
                                               suffix),
                                calibration, runtime=engine)
            session = load_runtime(
                path, engine, 'bf16' if precision == 'bf16' else 'fp32',
                threads=threads, device=device.type, spin=False)
        except (ValueError, ImportError) as e:
            out[engine, precision] = str(e)
            continue
        out[engine, precision] = Runnable(session, session.threads, True)
    return out


def time_runnables(runnables_, sides, batch_sizes, rounds, device):
    """:class:`~.timing.Timings` per batch size of every runnable of
    ``runnables_`` (keys of any kind, :class:`Runnable` values), all
    interleaved in one pass per batch size, each on the same random 0-255
    batch of its input side (``sides``, by key)."""
    timings = {}
    for batch in batch_sizes:
        inputs = {}
        for side in set(sides.values()):
            x = torch.rand(batch, 3, side, side, device=device).mul(255)
            inputs[side] = (x, x.cpu().numpy())
        timings[batch] = measure(
            {key: partial(r.fn, inputs[sides[key]][1 if r.host else 0])
             for key, r in runnables_.items() if isinstance(r, Runnable)},
            rounds, device=device)
    return timings


def best(timings, keys):
    """The key among ``keys`` with the lowest median in ``timings``."""
    return min(keys, key=timings.p50_ms)


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
