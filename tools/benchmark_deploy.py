"""Latency of the deployable models in PyTorch eager, torch.compile, ONNX
Runtime and OpenVINO, in fp32, int8 and bf16 (benchmarking.deploy_models),
beside the peers, and the accuracy-latency chart (benchmarking.chart).

All models, runtimes and precisions run interleaved in one process: each
round times every one once, in a shuffled order; p50 and p90 are over
rounds, ratios are taken round by round. PyTorch runs the model as trained,
ONNX Runtime and OpenVINO the ONNX export of its deploy form for that
runtime (int8 as tools/quantize_onnx.py makes it for that runtime). The
models: the classifier, SSDLite detector (NMS included) and DeepLabv3
segmentor (label map) of the variant's configs in the repository's
configs/ (one missing is an error; a BN/Hardswish variant without its own
takes its LayerNorm sibling's), the backbone (four maps), and the peers
exported the same way: timm's EdgeNeXt classifier of the variant,
torchvision's MobileNetV2 and MobileNetV3-Large, EdgeFormer-S and mmdet's
own SSDLite-MobileNetV2 config; at 256 / 320 / 512 input (or --size). Each
row says the threads its runtime uses. A summary gives each model's
fastest runtime and precision per batch size, against MobileNetV2
(classifiers) or mmdet's SSDLite-MobileNetV2 (detectors), and the
OpenVINO fp32 graph of each EdgeNeXt classifier against timm's;
--chart draws the classifiers' published top-1 against their latency.

    python tools/benchmark_deploy.py --archs xx_small xx_small_bn_hs \
        --models classifier --runtimes eager onnxruntime openvino
    python tools/benchmark_deploy.py --archs small --models detector \
        --precisions fp32 int8 --batch-sizes 1
"""
import argparse
import datetime
import os
import os.path as osp
import sys
import tempfile

from benchmarking.chart import Point, draw
from benchmarking.deploy_models import (ENGINES, MODELS, PRECISIONS,
                                        REFERENCE, Runnable, best,
                                        deploy_models, environment,
                                        runnables, time_runnables)
from benchmarking.timing import torch_device
from known_warnings import ignore_known_warnings

from mmedgenext.deploy.runtimes import cpu_info
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
    parser.add_argument('--chart', metavar='PNG',
                        help='draw the classifiers\' published top-1 '
                        'against their latency here')
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
    runs, sides = {}, {}
    with tempfile.TemporaryDirectory() as tmpdir:
        for i, model in enumerate(models):
            side, graph, deployed = model.build(args.size)
            graph.to(device).eval()
            for module in deployed.values():
                module.to(device).eval()
            folder = os.path.join(tmpdir, str(i))
            os.makedirs(folder)
            for key, run in runnables(graph, deployed, side, engines,
                                      args.precisions, device, folder,
                                      args.threads, batches).items():
                runs[(i, *key)] = run
                sides[(i, *key)] = side
        timings = time_runnables(runs, sides, batches, args.rounds, device)
    print_rows(models, runs, sides, timings, batches, device)
    print_summary(models, runs, timings, batches)
    if args.chart:
        points = chart_points(models, runs, timings, batches)
        name, features = cpu_info()
        draw(points, args.chart, f'{name} ({" ".join(features)}), '
             f'{timings[batches[0]].threads} threads, '
             f'{datetime.date.today()}: published top-1 against median '
             'latency')
        print(f'\nchart: {args.chart} ({len(points)} points)')


def print_rows(models, runs, sides, timings, batches, device):
    """One row per model, runtime and precision."""
    columns = [f'b{b} {p}' for b in batches for p in ('p50', 'p90')] + [
        f'b{b} vs {ref}' for ref in ('fp32', 'eager') for b in batches]
    print(f'\n{device.type}; ms per batch; "vs fp32": median over rounds '
          'of the time over the same runtime\'s fp32 time in that round, '
          '"vs eager": over PyTorch eager fp32\'s\n')
    print('| arch | model | input | runtime | precision | threads | ' +
          ' | '.join(columns) + ' |')
    print('|---|---|---|---|---|---|' + '---|' * len(columns))
    for key, run in runs.items():
        i, engine, precision = key
        row = f'| {models[i].arch} | {models[i].name} | {sides[key]} | ' \
              f'{engine} | {precision} |'
        if not isinstance(run, Runnable):
            print(f'{row} | n/a ({run}) |' + ' |' * (len(columns) - 1))
            continue
        cells = []
        for b in batches:
            cells += [f'{timings[b].p50_ms(key):.1f}',
                      f'{timings[b].p90_ms(key):.1f}']
        for ref in ((i, engine, 'fp32'), (i, 'eager', 'fp32')):
            cells += [f'{timings[b].ratio(key, ref):.2f}'
                      if ref in timings[b].seconds else '' for b in batches]
        print(f'{row} {run.threads} | ' + ' | '.join(cells) + ' |')
    print(f'\np50, p90: of {timings[batches[0]].rounds} interleaved rounds')


def _timed(runs, i):
    return [k for k, r in runs.items() if k[0] == i and
            isinstance(r, Runnable)]


def print_summary(models, runs, timings, batches):
    """Each model's fastest runtime and precision per batch size, over its
    task's reference's fastest, and (EdgeNeXt classifiers) its OpenVINO
    fp32 graph over timm's, each ratio round by round."""
    index = {m.label: i for i, m in enumerate(models)}
    columns = [f'b{b} best' for b in batches] + [
        f'b{b} vs reference' for b in batches] + [
        f'b{b} OpenVINO fp32 vs timm' for b in batches]
    print('\nfastest runtime and precision of each model (ms), over the '
          'fastest of its reference (MobileNetV2, mmdet\'s '
          'SSDLite-MobileNetV2) and, for EdgeNeXt, its OpenVINO fp32 time '
          'over timm\'s EdgeNeXt exported the same way\n')
    print('| model | top-1 | ' + ' | '.join(columns) + ' |')
    print('|---|---|' + '---|' * len(columns))
    for i, model in enumerate(models):
        keys = _timed(runs, i)
        if not keys:
            continue
        reference = index.get(REFERENCE.get(model.task))
        timm = index.get(f'timm {model.label}')
        cells = []
        for b in batches:
            k = best(timings[b], keys)
            cells.append(f'{timings[b].p50_ms(k):.2f} ({k[1]} {k[2]})')
        ref = _timed(runs, reference) if reference is not None else []
        for b in batches:
            t = timings[b]
            cells.append(f'{t.ratio(best(t, keys), best(t, ref)):.2f}'
                         if ref else '')
        for b in batches:
            ours, theirs = (i, 'openvino', 'fp32'), (timm, 'openvino',
                                                     'fp32')
            cells.append(f'{timings[b].ratio(ours, theirs):.2f}'
                         if theirs in timings[b].seconds and
                         ours in timings[b].seconds else '')
        top1 = f'{model.top1:g}' if model.top1 else ''
        print(f'| {model.label} | {top1} | ' + ' | '.join(cells) + ' |')


def chart_points(models, runs, timings, batches):
    """The :class:`~benchmarking.chart.Point` of every timed runnable of a
    model with a published top-1 (timm's port of a release is the
    release's own point), per batch size."""
    return [Point(models[i].label, models[i].family, engine, precision, b,
                  timings[b].p50_ms((i, engine, precision)), models[i].top1)
            for b in batches for i, engine, precision in runs
            if models[i].top1 and models[i].family and isinstance(
                runs[i, engine, precision], Runnable)]


if __name__ == '__main__':
    main()
