"""CPU/GPU latency of the EdgeNeXt backbone next to timm's and mmpretrain's,
and (--deploy) of the deployable models in PyTorch eager, torch.compile,
ONNX Runtime and OpenVINO, in fp32, int8 and bf16.

The compared callables run interleaved in one process: each round times
every one once, in a shuffled order. Times are medians over rounds; the
ratio column is the median over rounds of ours / the faster peer's time in
the same round (<= 1.0: we are at least as fast), which cancels the slow
drifts a shared machine has. Our backbone is timed twice: "mmedgenext" is
the model as trained, in eval mode; "deploy" the same weights after
``switch_to_deploy()``, the explicit inference form (1x1 convs, norms and
layer scales folded) that ONNX export also uses.

    python tools/benchmark.py --archs xx_small small --batch-sizes 1 8
    python tools/benchmark.py --deploy --archs xx_small xx_small_bn_hs \
        --models classifier detector --runtimes eager onnxruntime openvino
    python tools/benchmark.py --edgeformer --archs small

--edgeformer times EdgeFormer-S (ParC-Net) beside mmedgenext's EdgeNeXt of
the given variants, interleaved: the classifier's pooled features and the
maps a dense head consumes (EdgeFormer: strides 16 and 32 as its SSDLite
takes them; EdgeNeXt: its four stages).

--deploy times timm's EdgeNeXt classifier (the reference point), the
backbone (four maps), and the classifier, SSDLite detector (NMS included)
and DeepLabv3 segmentor (label map) graphs of tools/export_onnx.py, at
batch 1 and 8 (--batch-sizes), at 256 / 320 / 512 input (or --size), with
p50 and p90, the CPU's int8 and bf16 features and the library versions
(docs/deploy_benchmark.md).
"""
import argparse
import contextlib
import datetime
import itertools
import os
import os.path as osp
import random
import statistics
import sys
import tempfile
import time

import timm
import torch
from mmpretrain.models import EdgeNeXt as MMPretrainEdgeNeXt
from timm.layers import LayerNorm2d

from mmedgenext.apis import build_model, input_shape, load_config
from mmedgenext.deploy import (deploy_graph, export_onnx, noise_images,
                               onnx_session, switch_to_deploy)
from mmedgenext.deploy.quantize import quantize_onnx
from mmedgenext.deploy.runtimes import (CPU_FEATURES, OpenVINOModel,
                                        cpu_has_bf16, cpu_info,
                                        quantize_openvino)
from mmedgenext.models import ARCH_SETTINGS, EdgeFormer, EdgeNeXt

MMPRETRAIN_ARCH = {'xx_small': 'xxsmall', 'x_small': 'xsmall',
                   'small': 'small', 'base': 'base'}


def build_models(arch, mode):
    """Callables producing the same kind of output in each library."""
    timm_model = timm.create_model(f'edgenext_{arch}')
    if mode == 'pooled':  # the classifier's pooled, normalised features
        ours = EdgeNeXt(arch, out_indices=(3, ), gap_before_final_norm=True)
        mmp = MMPretrainEdgeNeXt(MMPRETRAIN_ARCH[arch])

        def timm_fn(x):
            return timm_model.forward_head(
                timm_model.forward_features(x), pre_logits=True)
    else:  # four maps, each through a norm as a dense head consumes them
        ours = EdgeNeXt(arch)
        mmp = MMPretrainEdgeNeXt(MMPRETRAIN_ARCH[arch],
                                 out_indices=(0, 1, 2, 3),
                                 gap_before_final_norm=False)
        # timm's intermediates carry no norm: add the same LayerNorm2d.
        timm_norms = torch.nn.ModuleList(
            LayerNorm2d(info['num_chs'], eps=1e-6)
            for info in timm_model.feature_info)

        def timm_fn(x):
            feats = timm_model.forward_intermediates(
                x, intermediates_only=True)
            return [norm(f) for norm, f in zip(timm_norms, feats)]
        timm_model.add_module('benchmark_norms', timm_norms)
    deployed = switch_to_deploy(ours)
    return {'mmedgenext': ours, 'deploy': deployed, 'timm': timm_fn,
            'mmpretrain': mmp}, [ours, deployed, timm_model, mmp]


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def time_interleaved(fns, x, repeats, warmup=3, autocast=None):
    """Per-round seconds of each callable, timed round-robin."""
    times = {name: [] for name in fns}
    order = list(fns)
    with torch.inference_mode(), autocast or contextlib.nullcontext():
        for _ in range(warmup):
            for fn in fns.values():
                fn(x)
        for _ in range(repeats):
            random.shuffle(order)
            for name in order:
                sync(x.device)
                start = time.perf_counter()
                fns[name](x)
                sync(x.device)
                times[name].append(time.perf_counter() - start)
    return times


def paired_ratio(times, ours, peers):
    """Median per-round ratio of ``ours`` to the peer with the lower median."""
    peer = min(peers, key=lambda p: statistics.median(times[p]))
    return statistics.median(
        a / b for a, b in zip(times[ours], times[peer]))


# Configs of the deployable models (timm's classifier and the bare backbone
# are built directly); an arch without a config of a kind skips that model.
DEPLOY_MODELS = {
    'classifier': 'configs/edgenext_{}_in1k.py',
    'detector': 'configs/ssdlite_edgenext_{}_coco.py',
    'segmentor': 'configs/deeplabv3_edgenext_{}_voc12aug.py',
}
DEPLOY_NAMES = ('timm', 'backbone', *DEPLOY_MODELS)
RUNTIMES = ('eager', 'compile', 'onnxruntime', 'openvino')
PRECISIONS = ('fp32', 'int8', 'bf16')


class _Backbone(torch.nn.Module):
    output_names = ['out0', 'out1', 'out2', 'out3']

    def __init__(self, arch):
        super().__init__()
        self.backbone = EdgeNeXt(arch)

    def forward(self, x):
        return self.backbone(x)


class _Timm(torch.nn.Module):
    output_names = ['logits']

    def __init__(self, arch):
        super().__init__()
        self.model = timm.create_model(f'edgenext_{arch}')

    def forward(self, x):
        return self.model(x)


def deploy_models(arch, names, size=None):
    """(name, input size, module, deploy-form module) of each model timed
    by --deploy: PyTorch runs the module as trained, the runtimes the ONNX
    export of its deploy form (see ``mmedgenext.deploy.switch_to_deploy``).
    Inputs are ``size`` square, by default each model's own."""
    if 'timm' in names and arch in MMPRETRAIN_ARCH:
        model = _Timm(arch).eval()
        yield f'timm edgenext_{arch} (classifier)', size or 256, model, model
    if 'backbone' in names:
        model = _Backbone(arch).eval()
        yield 'backbone (4 maps)', size or 256, model, switch_to_deploy(model)
    for name, pattern in DEPLOY_MODELS.items():
        if name not in names or not osp.isfile(pattern.format(arch)):
            continue
        cfg = load_config(pattern.format(arch))
        side = size or input_shape(cfg)[0]
        model = build_model(cfg)
        yield name, side, deploy_graph(cfg, model, (side, side),
                                       deploy_form=False), deploy_graph(
                                           cfg, model, (side, side))


def _onnx_runner(session):
    feeds = {}

    def run(x):
        if x.shape[0] not in feeds:
            feeds[x.shape[0]] = x.float().cpu().numpy()
        return session.run(None, {'image': feeds[x.shape[0]]})
    return run


def _with_autocast(fn, device):
    def run(x):
        with torch.autocast(device.type, torch.bfloat16):
            return fn(x)
    return run


def runtimes(graph, deployed, size, runtimes_, precisions, device, tmpdir,
             threads, batch_sizes=(1, 8)):
    """Callables per (runtime, precision); a combination that cannot run
    gets the reason instead."""
    fns = {}
    bf16_reason = None if device.type == 'cuda' or cpu_has_bf16() else (
        'no native bf16 on this CPU')
    for runtime, precision in itertools.product(runtimes_, precisions):
        if precision == 'bf16' and bf16_reason:
            fns[runtime, precision] = bf16_reason
        elif precision == 'int8' and runtime in ('eager', 'compile'):
            fns[runtime, precision] = 'int8 runs in the ONNX runtimes'
        elif precision == 'bf16' and runtime == 'onnxruntime':
            fns[runtime, precision] = 'no bf16 kernels in ONNX Runtime CPU'
    todo = [k for k in itertools.product(runtimes_, precisions)
            if k not in fns]
    if ('eager', 'fp32') in todo:
        fns['eager', 'fp32'] = graph
    if ('eager', 'bf16') in todo:
        fns['eager', 'bf16'] = _with_autocast(graph, device)
    for precision in ('fp32', 'bf16'):
        if ('compile', precision) not in todo:
            continue
        try:
            compiled = torch.compile(graph)
            if precision == 'bf16':
                compiled = _with_autocast(compiled, device)
            # compile now, for each batch size, and report failures
            with torch.inference_mode():
                for batch in batch_sizes:
                    compiled(torch.zeros(batch, 3, size, size,
                                         device=device))
            fns['compile', precision] = compiled
        except Exception as e:  # inductor fails in many ways
            fns['compile', precision] = f'{type(e).__name__}'
    if not any(r in ('onnxruntime', 'openvino') for r, _ in todo):
        return fns
    paths = {'fp32': osp.join(tmpdir, 'model.onnx')}
    export_onnx(deployed.cpu(), paths['fp32'], (size, size),
                dynamic_batch=True)
    deployed.to(device)
    # int8 as tools/quantize_onnx.py makes it per runtime (calibration
    # content does not change the kernels that run).
    calibration = [noise_images(1, (size, size), seed=i).numpy()
                   for i in range(4)]
    if ('onnxruntime', 'int8') in todo:
        paths['onnxruntime', 'int8'] = quantize_onnx(
            paths['fp32'], osp.join(tmpdir, 'model_int8.onnx'), calibration)
    if ('openvino', 'int8') in todo:
        paths['openvino', 'int8'] = quantize_openvino(
            paths['fp32'], osp.join(tmpdir, 'model_int8.xml'), calibration)
    for runtime, precision in todo:
        path = paths.get((runtime, precision), paths['fp32'])
        if runtime == 'onnxruntime':
            providers = (['CUDAExecutionProvider'] if device.type == 'cuda'
                         else []) + ['CPUExecutionProvider']
            fns[runtime, precision] = _onnx_runner(
                onnx_session(path, threads, providers, spin=False))
        elif runtime == 'openvino':
            model = OpenVINOModel(path, threads, 'bf16' if precision ==
                                  'bf16' else 'fp32')
            fns[runtime, precision] = lambda x, m=model: m(x.cpu())
    return fns


def environment_lines(threads):
    """Where and with what the numbers were measured."""
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
            f'command: python {" ".join(sys.argv)}',
            f'CPU: {name}, {os.cpu_count()} logical cores, features: '
            f'{" ".join(features) or "none of " + " ".join(CPU_FEATURES)}',
            f'threads: {threads}; ' + ', '.join(versions)]


def deploy_benchmark(args, device):
    threads = torch.get_num_threads()
    for line in environment_lines(threads):
        print(line)
    print(f'\nmedian (p50) and 90th percentile (p90) of {args.rounds} '
          'interleaved rounds, ms per batch; PyTorch runs the model as '
          'trained, ONNX Runtime and OpenVINO the ONNX export of its deploy '
          'form (int8: tools/quantize_onnx.py recipe); "vs fp32": p50 over '
          'the same runtime\'s fp32 p50, '
          '"vs eager": over PyTorch eager fp32\n')
    batches = args.batch_sizes
    columns = [f'b{b} {p}' for b in batches for p in ('p50', 'p90')] + [
        f'b{b} vs {ref}' for ref in ('fp32', 'eager') for b in batches]
    print('| arch | model | input | runtime | precision | ' +
          ' | '.join(columns) + ' |')
    print('|---|---|---|---|---|' + '---|' * len(columns))
    for arch in args.archs:
        for name, size, graph, deployed in deploy_models(arch, args.models,
                                                         args.size):
            graph.to(device).eval()
            deployed.to(device).eval()
            with tempfile.TemporaryDirectory() as tmpdir:
                fns = runtimes(graph, deployed, size, args.runtimes,
                               args.precisions, device, tmpdir, threads,
                               batches)
                working = {k: v for k, v in fns.items() if callable(v)}
                p50, p90 = {}, {}
                for batch in batches:
                    x = torch.rand(batch, 3, size, size,
                                   device=device).mul(255)
                    times = time_interleaved(working, x, args.rounds)
                    for key, t in times.items():
                        p50[key, batch] = statistics.median(t)
                        p90[key, batch] = statistics.quantiles(
                            t, n=10)[-1]
            for key in itertools.product(args.runtimes, args.precisions):
                runtime, precision = key
                if key not in working:
                    print(f'| {arch} | {name} | {size} | {runtime} | '
                          f'{precision} | n/a ({fns[key]}) |' +
                          ' |' * (len(columns) - 1))
                    continue
                base = runtime, 'fp32'
                cells = []
                for b in batches:
                    cells += [f'{p50[key, b] * 1e3:.1f}',
                              f'{p90[key, b] * 1e3:.1f}']
                for ref in (base, ('eager', 'fp32')):
                    for b in batches:
                        cells.append(f'{p50[key, b] / p50[ref, b]:.2f}'
                                     if (ref, b) in p50 else '')
                print(f'| {arch} | {name} | {size} | {runtime} | '
                      f'{precision} | ' + ' | '.join(cells) + ' |',
                      flush=True)


def edgeformer_models(archs, mode):
    """EdgeFormer-S and the EdgeNeXt variants, same kind of output."""
    if mode == 'pooled':
        models = {'EdgeFormer-S': EdgeFormer('s', final_conv=True)}
        models.update({f'EdgeNeXt-{a}': EdgeNeXt(
            a, out_indices=(3, ), gap_before_final_norm=True) for a in archs})
        pool = {'EdgeFormer-S': lambda outs: outs[0].mean((2, 3))}
    else:
        models = {'EdgeFormer-S': EdgeFormer('s', out_indices=(3, 4))}
        models.update({f'EdgeNeXt-{a}': EdgeNeXt(a) for a in archs})
        pool = {}
    fns = {name: (lambda m, f: lambda x: f(m(x)))(m, pool.get(
        name, lambda outs: outs)) for name, m in models.items()}
    return fns, models


def edgeformer_benchmark(args, device, dtype, autocast):
    print(f'device={device}, threads={torch.get_num_threads()}, {dtype}, '
          f'{args.size}x{args.size}, median of {args.rounds} interleaved '
          f'rounds (ms)\n')
    print('| model | params | output | batch | ms | vs EdgeFormer-S |')
    print('|---|---|---|---|---|---|')
    for mode in args.modes:
        fns, models = edgeformer_models(args.archs, mode)
        for m in models.values():
            m.to(device).eval()
        for batch in args.batch_sizes:
            x = torch.randn(batch, 3, args.size, args.size, device=device)
            times = time_interleaved(fns, x, args.rounds, autocast=autocast)
            for name, m in models.items():
                ratio = statistics.median(a / b for a, b in zip(
                    times[name], times['EdgeFormer-S']))
                params = sum(p.numel() for p in m.parameters()) / 1e6
                print(f'| {name} | {params:.2f}M | {mode} | {batch} | '
                      f'{statistics.median(times[name]) * 1e3:.1f} | '
                      f'{ratio:.2f} |', flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=None,
                        choices=list(ARCH_SETTINGS),
                        help='default: xx_small small (xx_small with '
                        '--deploy)')
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--size', type=int, default=None,
                        help='input side (default 256; with --deploy each '
                        "model's: 256 classification, 320 detection, 512 "
                        'segmentation)')
    parser.add_argument('--rounds', '--repeats', type=int, default=20)
    parser.add_argument('--modes', nargs='+', default=['pooled', 'maps'],
                        choices=['pooled', 'maps'])
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default=None,
                        help='default: cuda when present, else cpu')
    parser.add_argument('--deploy', action='store_true',
                        help='time backbone, classifier, detector and '
                        'segmentor in PyTorch and the ONNX runtimes')
    parser.add_argument('--edgeformer', action='store_true',
                        help='time EdgeFormer-S beside EdgeNeXt (--archs, '
                        'default small), pooled features and dense maps')
    parser.add_argument('--runtimes', nargs='+', choices=RUNTIMES,
                        help='default: eager, compile, onnxruntime on CUDA; '
                        'eager, onnxruntime, openvino on CPU, where '
                        'inductor takes minutes to compile each model')
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS,
                        default=list(PRECISIONS),
                        help='with --deploy (bf16 only where the CPU has '
                        'it)')
    parser.add_argument('--models', nargs='+', default=list(DEPLOY_NAMES),
                        choices=list(DEPLOY_NAMES))
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument('--fp16', action='store_true',
                           help='PyTorch under fp16 autocast (not with '
                           '--deploy)')
    precision.add_argument('--bf16', action='store_true',
                           help='PyTorch under bf16 autocast (not with '
                           '--deploy)')
    args = parser.parse_args()
    if args.deploy and (args.fp16 or args.bf16):
        parser.error('--deploy takes --precisions, not --fp16/--bf16')
    if not args.deploy and set(args.archs or []) - set(MMPRETRAIN_ARCH):
        parser.error(f'without --deploy, --archs must be among '
                     f'{", ".join(MMPRETRAIN_ARCH)} (timm and mmpretrain '
                     'have no others)')
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    dtype = args.fp16 and 'fp16' or args.bf16 and 'bf16' or 'fp32'
    autocast = None
    if args.fp16 or args.bf16:
        autocast = torch.autocast(
            device.type, torch.float16 if args.fp16 else torch.bfloat16)
    if args.deploy:
        args.archs = args.archs or ['xx_small']
        args.runtimes = args.runtimes or (
            ['eager', 'compile', 'onnxruntime'] if device.type == 'cuda'
            else ['eager', 'onnxruntime', 'openvino'])
        deploy_benchmark(args, device)
        return
    args.size = args.size or 256
    if args.edgeformer:
        args.archs = args.archs or ['small']
        edgeformer_benchmark(args, device, dtype, autocast)
        return
    args.archs = args.archs or ['xx_small', 'small']
    print(f'device={device}, threads={torch.get_num_threads()}, {dtype}, '
          f'{args.size}x{args.size}, median of {args.rounds} interleaved '
          f'rounds (ms)\n')
    print('mmedgenext: the backbone in eval mode; deploy: the same after '
          'switch_to_deploy()\n')
    print('| arch | output | batch | mmedgenext | deploy | timm | mmpretrain '
          '| ratio vs faster peer | deploy ratio |')
    print('|---|---|---|---|---|---|---|---|---|')
    for arch in args.archs:
        for mode in args.modes:
            fns, modules = build_models(arch, mode)
            for m in modules:
                m.to(device).eval()
            for batch in args.batch_sizes:
                x = torch.randn(batch, 3, args.size, args.size, device=device)
                times = time_interleaved(fns, x, args.rounds,
                                         autocast=autocast)
                ratios = [
                    paired_ratio(times, ours, ['timm', 'mmpretrain'])
                    for ours in ('mmedgenext', 'deploy')]
                t = {k: statistics.median(v) * 1e3 for k, v in times.items()}
                print(f'| {arch} | {mode} | {batch} | ' + ' | '.join(
                    f'{t[k]:.1f}' for k in fns) + ' | ' + ' | '.join(
                        f'{r:.2f}' for r in ratios) + ' |', flush=True)


if __name__ == '__main__':
    main()
