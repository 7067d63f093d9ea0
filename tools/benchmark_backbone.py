"""CPU/GPU latency of the EdgeNeXt backbone beside timm's and mmpretrain's
EdgeNeXt and torchvision's MobileNetV2 (--edgeformer: EdgeFormer-S beside
EdgeNeXt variants), in PyTorch, in one process.

The compared models run interleaved: each round times every one once, in
a shuffled order. Times are medians over rounds; the ratio columns are the
median over rounds of ours / the faster of timm's and mmpretrain's EdgeNeXt
in the same round (<= 1.0: we are at least as fast), which cancels the slow
drifts a shared machine has. Our backbone is timed three times: "mmedgenext"
is the model as trained, in eval mode; "deploy" the same weights after
``switch_to_deploy()``; "deploy convs" that form with its 1x1 convs instead
of its eager-CPU GEMM path ("deploy vs convs": what that path gains). Each
row says what it ran: the input, the device,
PyTorch's threads and the precision a matrix product took (autocast).
Deployed models in ONNX Runtime and OpenVINO: tools/benchmark_deploy.py.

    python tools/benchmark_backbone.py --archs xx_small small
    python tools/benchmark_backbone.py --edgeformer --archs xx_small small
"""
import argparse

import torch
from benchmarking.peers import (MMPRETRAIN_ARCH, MODES, PEERS, SAME_NETWORK,
                                backbone_and_peers, edgeformer_and_edgenext,
                                parameters_m)
from benchmarking.timing import measure, torch_device
from known_warnings import ignore_known_warnings

from mmedgenext.models import ARCH_SETTINGS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', choices=list(ARCH_SETTINGS),
                        help='EdgeNeXt variants (default: xx_small small; '
                        'without --edgeformer those timm and mmpretrain '
                        'have)')
    parser.add_argument('--edgeformer', action='store_true',
                        help='time EdgeFormer-S beside the EdgeNeXt '
                        'variants instead')
    parser.add_argument('--modes', nargs='+', default=list(MODES),
                        choices=MODES, help='pooled features, dense maps')
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--size', type=int, default=256, help='input side')
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default=None,
                        help='default: cuda when present, else cpu')
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument('--fp16', action='store_true',
                           help='under fp16 autocast')
    precision.add_argument('--bf16', action='store_true',
                           help='under bf16 autocast')
    args = parser.parse_args(argv)
    args.archs = args.archs or ['xx_small', 'small']
    if not args.edgeformer and set(args.archs) - set(MMPRETRAIN_ARCH):
        parser.error(f'--archs must be among {", ".join(MMPRETRAIN_ARCH)} '
                     '(timm and mmpretrain have no others), or use '
                     '--edgeformer')
    return args


def _time(models, batch, args, device, autocast):
    """Timings of ``models`` on one random batch, and the cells saying
    what ran: the input's shape and device, PyTorch's threads, the
    precision a matrix product took."""
    x = torch.randn(batch, 3, args.size, args.size, device=device)
    timings = measure(
        {name: (lambda m: lambda: m(x))(m) for name, m in models.items()},
        args.rounds, device=device, context=autocast)
    return timings, (f'{"x".join(map(str, x.shape))} | {x.device.type} | '
                     f'{timings.threads} | {timings.precision}')


def peers_table(args, device, autocast):
    print('| arch | output | input | device | threads | precision | '
          'mmedgenext | deploy | deploy convs | ' + ' | '.join(PEERS) +
          ' | ratio vs faster peer | deploy ratio | deploy vs convs |')
    print('|---|---|---|---|---|---|---|---|---|' + '---|' * len(PEERS) +
          '---|---|---|')
    for arch in args.archs:
        for mode in args.modes:
            models = {n: m.to(device) for n, m in backbone_and_peers(
                arch, mode).items()}
            for batch in args.batch_sizes:
                timings, ran = _time(models, batch, args, device, autocast)
                ms = [f'{timings.p50_ms(n):.1f}' for n in models]
                ratios = [f'{timings.ratio_to_fastest(n, SAME_NETWORK):.2f}'
                          for n in ('mmedgenext', 'deploy')]
                ratios.append(f'{timings.ratio("deploy", "deploy convs"):.2f}')
                print(f'| {arch} | {mode} | {ran} | ' + ' | '.join(
                    ms + ratios) + ' |', flush=True)
    return timings.rounds


def edgeformer_table(args, device, autocast):
    print('| model | params | output | input | device | threads | precision '
          '| ms | vs EdgeFormer-S |')
    print('|---|---|---|---|---|---|---|---|---|')
    for mode in args.modes:
        models = {n: m.to(device) for n, m in edgeformer_and_edgenext(
            args.archs, mode).items()}
        for batch in args.batch_sizes:
            timings, ran = _time(models, batch, args, device, autocast)
            for name, model in models.items():
                print(f'| {name} | {parameters_m(model):.2f}M | {mode} | '
                      f'{ran} | {timings.p50_ms(name):.1f} | '
                      f'{timings.ratio(name, "EdgeFormer-S"):.2f} |',
                      flush=True)
    return timings.rounds


def main(argv=None):
    ignore_known_warnings()
    args = parse_args(argv)
    device = torch_device(args.threads, args.device)
    autocast = None
    if args.fp16 or args.bf16:
        autocast = torch.autocast(
            device.type, torch.float16 if args.fp16 else torch.bfloat16)
    table = edgeformer_table if args.edgeformer else peers_table
    rounds = table(args, device, autocast)
    print(f'\nms: median of {rounds} interleaved rounds')


if __name__ == '__main__':
    main()
