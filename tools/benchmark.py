"""CPU/GPU latency of the EdgeNeXt backbone next to timm's and mmpretrain's.

The three implementations of one variant run interleaved in one process:
each round times every model once, in a shuffled order. Times are medians
over rounds; the ratio column is the median over rounds of ours / the faster
peer's time in the same round (<= 1.0: we are at least as fast), which
cancels the slow drifts a shared machine has.

    python tools/benchmark.py --archs xx_small small --batch-sizes 1 8
"""
import argparse
import random
import statistics
import time

import timm
import torch
from timm.layers import LayerNorm2d
from mmpretrain.models import EdgeNeXt as MMPretrainEdgeNeXt

from mmedgenext.models import EdgeNeXt

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


def time_interleaved(fns, x, repeats, warmup=3):
    """Per-round seconds of each callable, timed round-robin."""
    times = {name: [] for name in fns}
    order = list(fns)
    with torch.inference_mode():
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=['xx_small', 'small'],
                        choices=list(MMPRETRAIN_ARCH))
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--modes', nargs='+', default=['pooled', 'maps'],
                        choices=['pooled', 'maps'])
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f'device={device}, threads={torch.get_num_threads()}, fp32, '
          f'{args.size}x{args.size}, median of {args.repeats} interleaved '
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
                times = time_interleaved(fns, x, args.repeats)
                ratio = paired_ratio(times, 'mmedgenext',
                                     ['timm', 'mmpretrain'])
                t = {k: statistics.median(v) for k, v in times.items()}
                print(f'| {arch} | {mode} | {batch} | '
                      f'{t["mmedgenext"] * 1e3:.1f} | {t["timm"] * 1e3:.1f} | '
                      f'{t["mmpretrain"] * 1e3:.1f} | {ratio:.2f} |',
                      flush=True)


if __name__ == '__main__':
    main()
