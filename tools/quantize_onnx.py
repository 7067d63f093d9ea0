"""Static int8 quantization of a graph written by tools/export_onnx.py,
calibrated on a folder of images, for ONNX Runtime (a QDQ ONNX file, which
OpenVINO runs too) or OpenVINO (NNCF, an OpenVINO IR file), with a report
of how far int8 moves the outputs and how fast each runs. With --eval-set
int8 is held to the config's test metric: exit status 3 when it scores
more than --max-drop points below float. The work is
mmedgenext.deploy.quantize's and mmedgenext.deploy.profile's.

    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train --out cls_int8.onnx
    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train --runtime openvino
    python tools/quantize_onnx.py configs/ssdlite_edgenext_xx_small_coco.py \
        det.onnx --calib-dir data/coco/train2017 --eval-set 500
"""
import argparse
import os
import sys

from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

from mmedgenext.apis import load_config
from mmedgenext.deploy import load_runtime, pipeline_images
from mmedgenext.deploy.evaluation import evaluate_onnx
from mmedgenext.deploy.profile import PROFILERS, fastest, latency_by_runtime
from mmedgenext.deploy.quantize import (CALIBRATION_METHODS, MAX_DROP,
                                        compare_float_int8, metric_drop,
                                        quantization_recipe, quantize)
from mmedgenext.deploy.runtimes import RUNTIMES, graph_file_mb
from mmedgenext.utils import check_data_roots


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config the graph came from '
                        '(its test pipeline preprocesses the images)')
    parser.add_argument('onnx', help='float ONNX graph')
    parser.add_argument('--calib-dir', required=True,
                        help='folder of calibration images (searched '
                        'recursively)')
    parser.add_argument('--num-calib', type=int, default=64)
    parser.add_argument('--eval-dir', help='images to compare float and '
                        'int8 on (default: the calibration images)')
    parser.add_argument('--num-eval', type=int, default=100)
    parser.add_argument('--eval-set', type=int, nargs='?', const=-1,
                        metavar='N', help="also score float and int8 with "
                        "the config's test metric on its test set (the "
                        'first N images; all without N)')
    parser.add_argument('--max-drop', type=float, default=MAX_DROP,
                        metavar='POINTS', help='with --eval-set: the most '
                        'points (percent: 1 = 0.01 mAP, 1%% top-1, 1 mIoU) '
                        'int8 may score below float on the config\'s main '
                        'metric; more exits with status 3')
    parser.add_argument('--work-dir', help='logs of the --eval-set runs '
                        '(default: a temporary folder)')
    parser.add_argument('--runtime', default='onnxruntime', choices=RUNTIMES,
                        help='onnxruntime: QDQ ONNX by its quantizer (runs '
                        'in OpenVINO too); openvino: NNCF, OpenVINO IR')
    parser.add_argument('--out', help='int8 graph (default: '
                        '<onnx>_int8.onnx, <onnx>_int8_openvino.xml)')
    parser.add_argument('--method', choices=sorted(CALIBRATION_METHODS),
                        help='ONNX Runtime: activation ranges (default '
                        'minmax)')
    parser.add_argument('--per-tensor', action='store_const', const=False,
                        dest='per_channel', help='ONNX Runtime: one weight '
                        'scale per tensor, not per channel')
    parser.add_argument('--op-types', nargs='+', help='ONNX Runtime: the '
                        'ONNX op types to quantize (default Conv MatMul '
                        'Gemm)')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--profile', type=int, nargs='?', const=12,
                        metavar='K', help="the runtime's per-node profile "
                        'of the float and int8 graphs at batch 1, summed by '
                        'node kind (OpenVINO: layer type and kernel '
                        'precision): the K most expensive kinds')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def print_latencies(latencies, int8_runtime):
    """Each runtime's fp32 and int8 latency on this machine, and which to
    ship: the fastest; a runtime whose int8 is slower than its fp32 is
    named."""
    print('batch 1, median ms of interleaved runs on this CPU:')
    print('| runtime | fp32 | int8 | int8 / fp32 |')
    print('|---|---|---|---|')
    for runtime in dict.fromkeys(r for r, _ in latencies):
        fp32, int8 = latencies[runtime, 'fp32'], latencies.get(
            (runtime, 'int8'))
        print(f'| {runtime} | {fp32:.2f} | ' + (
            f'{int8:.2f} | {int8 / fp32:.2f} |' if int8 else
            f'n/a (an {int8_runtime} int8 file) | |'))
        if int8 and int8 > fp32:
            print(f'note: int8 is slower than fp32 in {runtime} here')
    runtime, precision = fastest(latencies)
    print(f'ship: {runtime} {precision} '
          f'({latencies[runtime, precision]:.2f} ms)')


def main():
    ignore_known_warnings()
    args = parse_args()
    out = args.out or os.path.splitext(args.onnx)[0] + (
        '_int8.onnx' if args.runtime == 'onnxruntime' else
        '_int8_openvino.xml')
    options = dict(runtime=args.runtime, op_types=args.op_types,
                   per_channel=args.per_channel, method=args.method)
    try:
        if not os.path.isfile(args.onnx):
            raise FileNotFoundError(f'ONNX file not found: {args.onnx}')
        recipe = quantization_recipe(**options)
        cfg = load_config(args.config, args.cfg_options)
        if args.eval_set is not None:
            check_data_roots(cfg, loaders=('test_dataloader', ))
        size = tuple(load_runtime(args.onnx).input_shape[2:])
        calib = list(pipeline_images(cfg, args.calib_dir, size,
                                     args.num_calib))
        evaluation = calib if not args.eval_dir else list(pipeline_images(
            cfg, args.eval_dir, size, args.num_eval))
        quantize(args.onnx, out, calib, **options)
    except (FileNotFoundError, ValueError, ImportError) as e:
        sys.exit(f'error: {e}')
    report = compare_float_int8(cfg, args.onnx, out, evaluation,
                                args.threads, runtime=args.runtime)
    print(f'{out}: int8 ({recipe}), calibrated on {len(calib)} images')
    print(f'size {graph_file_mb(args.onnx):.2f} MB -> '
          f'{graph_file_mb(out):.2f} MB')
    print_latencies(latency_by_runtime(args.onnx, out, args.runtime,
                                       evaluation[0], args.threads),
                    args.runtime)
    print('int8 vs float on', ', '.join(
        f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
        for k, v in report.items()))
    if args.profile:
        runtime = {'onnxruntime': 'ONNX Runtime',
                   'openvino': 'OpenVINO'}[args.runtime]
        for name, path in (('float', args.onnx), ('int8', out)):
            times, counts = PROFILERS[args.runtime](
                path, evaluation[0], threads=args.threads)
            total = sum(times.values())
            print(f'{runtime} profile, {name}: {total:.1f} ms in '
                  f'{sum(counts.values())} nodes')
            for kind, ms in list(times.items())[:args.profile]:
                print(f'  {kind:40s} {counts[kind]:4d} nodes {ms:7.2f} ms '
                      f'{100 * ms / total:5.1f}%')
    if args.eval_set is not None:
        limit = None if args.eval_set < 0 else args.eval_set
        scores = [evaluate_onnx(cfg, args.onnx, limit, args.threads,
                                work_dir=args.work_dir),
                  evaluate_onnx(cfg, out, limit, args.threads, args.runtime,
                                args.work_dir)]
        for key in scores[0]:
            print(f'test set {key}: float {scores[0][key]:.4g}, int8 '
                  f'{scores[1][key]:.4g}')
        key, drop = metric_drop(cfg, *scores)
        verdict = 'ok' if drop <= args.max_drop else 'TOO LOW'
        print(f'int8 quality: {key} drop {drop:.2f} points (limit '
              f'{args.max_drop:g}): {verdict}')
        if drop > args.max_drop:
            print(f'error: int8 loses {drop:.2f} points of {key}, more than '
                  f'--max-drop {args.max_drop:g}', file=sys.stderr)
            sys.exit(3)
    else:
        print('int8 quality: not checked against a test metric (--eval-set)')


if __name__ == '__main__':
    main()
