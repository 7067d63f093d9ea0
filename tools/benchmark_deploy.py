"""Latency of the deployable models in PyTorch eager, torch.compile, ONNX
Runtime and OpenVINO, in fp32, int8 and bf16 (benchmarking.deploy_models).

Each model's runtimes and precisions run interleaved in one process: each
round times every one once, in a shuffled order; p50 and p90 are over
rounds. PyTorch runs the model as trained, ONNX Runtime and OpenVINO the
ONNX export of its deploy form (int8 as tools/quantize_onnx.py makes it for
that runtime). The models: timm's EdgeNeXt classifier of the variant and
torchvision's MobileNetV2 (reference points, through the same export), the
backbone (four maps), and the classifier, SSDLite detector (NMS included)
and DeepLabv3 segmentor (label map) of the variant's configs in the
repository's configs/ (one missing is an error), at 256 / 320 / 512 input
(or --size). Each row says the threads its runtime uses.

    python tools/benchmark_deploy.py --archs xx_small xx_small_bn_hs \
        --models classifier --runtimes eager onnxruntime openvino
    python tools/benchmark_deploy.py --archs small --models detector \
        --precisions fp32 int8 --batch-sizes 1
"""
import argparse
import os.path as osp
import sys
import tempfile

from benchmarking.deploy_models import (ENGINES, MODELS, PRECISIONS, Runnable,
                                        deploy_models, environment, runnables,
                                        time_runnables)
from benchmarking.timing import torch_device
from known_warnings import ignore_known_warnings

from mmedgenext.models import ARCH_SETTINGS

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'configs')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=['xx_small'],
                        choices=list(ARCH_SETTINGS))
    parser.add_argument('--models', nargs='+', default=list(MODELS),
                        choices=MODELS)
    parser.add_argument('--runtimes', nargs='+', choices=ENGINES,
                        help='default: eager, compile, onnxruntime on CUDA; '
                        'eager, onnxruntime, openvino on CPU, where '
                        'inductor takes minutes to compile each model')
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS,
                        default=list(PRECISIONS),
                        help='bf16 only where the CPU has it')
    parser.add_argument('--size', type=int, default=None,
                        help="input side (default: each model's, 256 "
                        'classification, 320 detection, 512 segmentation)')
    parser.add_argument('--batch-sizes', nargs='+', type=int, default=[1, 8])
    parser.add_argument('--rounds', type=int, default=20)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default=None,
                        help='default: cuda when present, else cpu')
    return parser.parse_args(argv)


def main(argv=None):
    ignore_known_warnings()
    args = parse_args(argv)
    device = torch_device(args.threads, args.device)
    engines = args.runtimes or (
        ['eager', 'compile', 'onnxruntime'] if device.type == 'cuda' else
        ['eager', 'onnxruntime', 'openvino'])
    try:
        models = deploy_models(args.archs, args.models, CONFIG_DIR)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    command = 'python ' + ' '.join(sys.argv if argv is None else
                                   ['tools/benchmark_deploy.py', *argv])
    print('\n'.join(environment(command)))
    batches = args.batch_sizes
    columns = [f'b{b} {p}' for b in batches for p in ('p50', 'p90')] + [
        f'b{b} vs {ref}' for ref in ('fp32', 'eager') for b in batches]
    print(f'\n{device.type}; ms per batch; "vs fp32": median over rounds '
          'of the time over the same runtime\'s fp32 time in that round, '
          '"vs eager": over PyTorch eager fp32\'s\n')
    print('| arch | model | input | runtime | precision | threads | ' +
          ' | '.join(columns) + ' |')
    print('|---|---|---|---|---|---|' + '---|' * len(columns))
    for model in models:
        side, graph, deployed = model.build(args.size)
        graph.to(device).eval()
        deployed.to(device).eval()
        with tempfile.TemporaryDirectory() as tmpdir:
            runs = runnables(graph, deployed, side, engines, args.precisions,
                             device, tmpdir, args.threads, batches)
            timings = time_runnables(runs, side, batches, args.rounds,
                                     device)
        for key, run in runs.items():
            row = f'| {model.arch} | {model.name} | {side} | {key[0]} | ' \
                  f'{key[1]} |'
            if not isinstance(run, Runnable):
                print(f'{row} | n/a ({run}) |' + ' |' * (len(columns) - 1))
                continue
            cells = []
            for b in batches:
                cells += [f'{timings[b].p50_ms(key):.1f}',
                          f'{timings[b].p90_ms(key):.1f}']
            for ref in ((key[0], 'fp32'), ('eager', 'fp32')):
                cells += [f'{timings[b].ratio(key, ref):.2f}'
                          if ref in timings[b].seconds else '' for b in
                          batches]
            print(f'{row} {run.threads} | ' + ' | '.join(cells) + ' |',
                  flush=True)
    print(f'\np50, p90: of {timings[batches[0]].rounds} interleaved rounds')


if __name__ == '__main__':
    main()
