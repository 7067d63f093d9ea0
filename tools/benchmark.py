"""CPU/GPU latency of the EdgeNeXt backbone next to timm's and mmpretrain's,
and (--deploy) of the deployable models in PyTorch eager, torch.compile and
ONNX Runtime.

The compared callables run interleaved in one process: each round times
every one once, in a shuffled order. Times are medians over rounds; the
ratio column is the median over rounds of ours / the faster peer's time in
the same round (<= 1.0: we are at least as fast), which cancels the slow
drifts a shared machine has.

    python tools/benchmark.py --archs xx_small small --batch-sizes 1 8
    python tools/benchmark.py --deploy --archs xx_small --rounds 10
    python tools/benchmark.py --edgeformer --archs small

--edgeformer times EdgeFormer-S (ParC-Net) beside mmedgenext's EdgeNeXt of
the given variants, interleaved: the classifier's pooled features and the
maps a dense head consumes (EdgeFormer: strides 16 and 32 as its SSDLite
takes them; EdgeNeXt: its four stages).

--deploy times timm's EdgeNeXt classifier (the reference point), the
backbone (four maps), and the classifier, SSDLite detector (NMS included)
and DeepLabv3 segmentor (label map) graphs of tools/export_onnx.py, at
batch 1 (latency) and batch 8 (throughput), at 256 / 320 / 512 input.
"""
import argparse
import contextlib
import os.path as osp
import random
import statistics
import tempfile
import time

import onnxruntime
import timm
import torch
from timm.layers import LayerNorm2d
from mmpretrain.models import EdgeNeXt as MMPretrainEdgeNeXt

from mmedgenext.deploy import (DEFAULT_SHAPES, build_model, deploy_graph,
                               export_onnx, load_config, onnx_session)
from mmedgenext.models import EdgeFormer, EdgeNeXt

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
    return {'mmedgenext': ours, 'timm': timm_fn, 'mmpretrain': mmp}, [
        ours, timm_model, mmp]


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
# are built directly).
DEPLOY_MODELS = {
    'classifier': 'configs/edgenext_{}_in1k.py',
    'detector': 'configs/ssdlite_edgenext_{}_coco.py',
    'segmentor': 'configs/deeplabv3_edgenext_{}_voc12aug.py',
}


DEPLOY_NAMES = ('timm', 'backbone', *DEPLOY_MODELS)


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


def deploy_models(arch, names):
    """(name, input size, module) of each model timed by --deploy."""
    if 'timm' in names:
        yield f'timm edgenext_{arch} (classifier)', 256, _Timm(arch)
    if 'backbone' in names:
        yield 'backbone (4 maps)', 256, _Backbone(arch)
    for name, pattern in DEPLOY_MODELS.items():
        if name not in names:
            continue
        cfg = load_config(pattern.format(arch))
        size = DEFAULT_SHAPES[cfg.default_scope]
        graph = deploy_graph(cfg, build_model(cfg), (size, size))
        yield name, size, graph


def runtimes(graph, size, names, device, tmpdir, threads, autocast):
    """Callables of ``graph`` per runtime; a runtime that cannot take the
    graph gets the reason instead."""
    fns = {}
    if 'eager' in names:
        fns['eager'] = graph
    if 'compile' in names:
        try:
            compiled = torch.compile(graph)
            # compile now, for both batch sizes, and report failures
            with torch.inference_mode(), (autocast
                                          or contextlib.nullcontext()):
                for batch in (1, 8):
                    compiled(torch.zeros(batch, 3, size, size,
                                         device=device))
            fns['compile'] = compiled
        except Exception as e:  # inductor fails in many ways
            fns['compile'] = f'{type(e).__name__}'
    if 'onnxruntime' in names:
        path = osp.join(tmpdir, 'model.onnx')
        export_onnx(graph.cpu(), path, (size, size), dynamic_batch=True)
        graph.to(device)
        providers = (['CUDAExecutionProvider'] if device.type == 'cuda'
                     else []) + ['CPUExecutionProvider']
        session = onnx_session(path, threads, providers)
        feeds = {}

        def run_ort(x):
            if x.shape[0] not in feeds:
                feeds[x.shape[0]] = x.float().cpu().numpy()
            return session.run(None, {'image': feeds[x.shape[0]]})
        fns['onnxruntime'] = run_ort
    return fns


def deploy_benchmark(args, device, dtype, autocast):
    names = args.runtimes
    ort_device = 'CUDA' if device.type == 'cuda' and (
        'CUDAExecutionProvider'
        in onnxruntime.get_available_providers()) else 'CPU'
    print(f'device={device}, threads={torch.get_num_threads()}, PyTorch '
          f'{dtype}, ONNX Runtime fp32 ({ort_device}), median of '
          f'{args.rounds} interleaved rounds; batch 1: latency in ms, '
          f'batch 8: throughput in images/s\n')
    header = [f'{r} b1 ms' for r in names] + [f'{r} b8 img/s' for r in names]
    print('| arch | model | input | ' + ' | '.join(header) + ' |')
    print('|---|---|---|' + '---|' * len(header))
    for arch in args.archs:
        for name, size, graph in deploy_models(arch, args.models):
            graph.to(device).eval()
            with tempfile.TemporaryDirectory() as tmpdir:
                fns = runtimes(graph, size, names, device, tmpdir,
                               torch.get_num_threads(), autocast)
                working = {k: v for k, v in fns.items() if callable(v)}
                cells = {}
                for batch in (1, 8):
                    x = torch.rand(batch, 3, size, size,
                                   device=device).mul(255)
                    times = time_interleaved(working, x, args.rounds,
                                             autocast=autocast)
                    for r in names:
                        if r not in working:
                            cells[r, batch] = f'n/a ({fns[r]})'
                            continue
                        t = statistics.median(times[r])
                        cells[r, batch] = (f'{t * 1e3:.1f}' if batch == 1
                                           else f'{batch / t:.1f}')
            print(f'| {arch} | {name} | {size} | ' + ' | '.join(
                cells[r, b] for b in (1, 8) for r in names) + ' |',
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
                        choices=list(MMPRETRAIN_ARCH),
                        help='default: xx_small small (xx_small with '
                        '--deploy)')
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--rounds', '--repeats', type=int, default=20)
    parser.add_argument('--modes', nargs='+', default=['pooled', 'maps'],
                        choices=['pooled', 'maps'])
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default=None,
                        help='default: cuda when present, else cpu')
    parser.add_argument('--deploy', action='store_true',
                        help='time backbone, classifier, detector and '
                        'segmentor in eager, compile and ONNX Runtime')
    parser.add_argument('--edgeformer', action='store_true',
                        help='time EdgeFormer-S beside EdgeNeXt (--archs, '
                        'default small), pooled features and dense maps')
    parser.add_argument('--runtimes', nargs='+',
                        choices=['eager', 'compile', 'onnxruntime'],
                        help='default: all three on CUDA; eager and '
                        'onnxruntime on CPU, where inductor takes minutes '
                        'to compile each model and batch size')
    parser.add_argument('--models', nargs='+', default=list(DEPLOY_NAMES),
                        choices=list(DEPLOY_NAMES))
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument('--fp16', action='store_true',
                           help='PyTorch under fp16 autocast')
    precision.add_argument('--bf16', action='store_true',
                           help='PyTorch under bf16 autocast')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or (
        'cuda' if torch.cuda.is_available() else 'cpu'))
    dtype = args.fp16 and 'fp16' or args.bf16 and 'bf16' or 'fp32'
    autocast = None
    if args.fp16 or args.bf16:
        autocast = torch.autocast(
            device.type, torch.float16 if args.fp16 else torch.bfloat16)
    if args.edgeformer:
        args.archs = args.archs or ['small']
        edgeformer_benchmark(args, device, dtype, autocast)
        return
    if args.deploy:
        args.archs = args.archs or ['xx_small']
        args.runtimes = args.runtimes or (
            ['eager', 'compile', 'onnxruntime'] if device.type == 'cuda'
            else ['eager', 'onnxruntime'])
        deploy_benchmark(args, device, dtype, autocast)
        return
    args.archs = args.archs or ['xx_small', 'small']
    print(f'device={device}, threads={torch.get_num_threads()}, {dtype}, '
          f'{args.size}x{args.size}, median of {args.rounds} interleaved '
          f'rounds (ms)\n')
    print('| arch | output | batch | mmedgenext | timm | mmpretrain | '
          'ratio vs faster peer |')
    print('|---|---|---|---|---|---|---|')
    for arch in args.archs:
        for mode in args.modes:
            fns, modules = build_models(arch, mode)
            for m in modules:
                m.to(device).eval()
            for batch in args.batch_sizes:
                x = torch.randn(batch, 3, args.size, args.size, device=device)
                times = time_interleaved(fns, x, args.rounds,
                                         autocast=autocast)
                ratio = paired_ratio(times, 'mmedgenext',
                                     ['timm', 'mmpretrain'])
                t = {k: statistics.median(v) for k, v in times.items()}
                print(f'| {arch} | {mode} | {batch} | '
                      f'{t["mmedgenext"] * 1e3:.1f} | {t["timm"] * 1e3:.1f} | '
                      f'{t["mmpretrain"] * 1e3:.1f} | {ratio:.2f} |',
                      flush=True)


if __name__ == '__main__':
    main()
