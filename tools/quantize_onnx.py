"""Static int8 quantization of a graph written by tools/export_onnx.py,
calibrated on a folder of images, for ONNX Runtime (a QDQ ONNX file, which
OpenVINO runs too) or OpenVINO (NNCF, an OpenVINO IR file), with a report
of how far int8 moves the outputs and how fast each runs. With --eval-set
int8 is held to the config's test metric: exit status 3 when it scores
more than --max-drop points below float.

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
import time

import numpy as np
from mmengine.config import DictAction

from mmedgenext.apis import load_config
from mmedgenext.deploy import onnx_session, pipeline_images
from mmedgenext.deploy.evaluation import evaluate_onnx
from mmedgenext.deploy.profile import profile_onnx, profile_openvino
from mmedgenext.deploy.quantize import (CALIBRATION_METHODS, DEFAULT_OP_TYPES,
                                        MAX_DROP, compare_float_int8,
                                        metric_drop, quantize_onnx)
from mmedgenext.deploy.runtimes import load_runtime, quantize_openvino
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
    parser.add_argument('--runtime', default='onnxruntime',
                        choices=['onnxruntime', 'openvino'],
                        help='onnxruntime: QDQ ONNX by its quantizer (runs '
                        'in OpenVINO too); openvino: NNCF, OpenVINO IR')
    parser.add_argument('--out', help='int8 graph (default: '
                        '<onnx>_int8.onnx, <onnx>_int8_openvino.xml)')
    parser.add_argument('--method', default='minmax',
                        choices=sorted(CALIBRATION_METHODS))
    parser.add_argument('--per-tensor', action='store_true',
                        help='one weight scale per tensor, not per channel')
    parser.add_argument('--op-types', nargs='+', default=DEFAULT_OP_TYPES,
                        help='ONNX op types to quantize')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--profile', type=int, nargs='?', const=12,
                        metavar='K', help="the runtime's per-node profile "
                        'of the float and int8 graphs at batch 1, summed by '
                        'node kind (OpenVINO: layer type and kernel '
                        'precision): the K most expensive kinds')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def median_ms(graph, img, rounds=20):
    graph(img)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        graph(img)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main():
    args = parse_args()
    out = args.out or os.path.splitext(args.onnx)[0] + (
        '_int8.onnx' if args.runtime == 'onnxruntime' else
        '_int8_openvino.xml')
    try:
        if not os.path.isfile(args.onnx):
            raise FileNotFoundError(f'ONNX file not found: {args.onnx}')
        cfg = load_config(args.config, args.cfg_options)
        if args.eval_set is not None:
            check_data_roots(cfg, loaders=('test_dataloader', ))
        shape = onnx_session(args.onnx).get_inputs()[0].shape
        size = tuple(shape[2:])
        calib = list(pipeline_images(cfg, args.calib_dir, size,
                                     args.num_calib))
        evaluation = calib if not args.eval_dir else list(pipeline_images(
            cfg, args.eval_dir, size, args.num_eval))
        if args.runtime == 'openvino':
            quantize_openvino(args.onnx, out, calib)
            recipe = 'NNCF, mixed preset'
        else:
            quantize_onnx(args.onnx, out, calib, args.op_types,
                          per_channel=not args.per_tensor,
                          method=args.method)
            recipe = (f'{args.method}, '
                      f'{"per-tensor" if args.per_tensor else "per-channel"}'
                      f' weights, {"/".join(args.op_types)}')
    except (FileNotFoundError, ValueError, ImportError) as e:
        sys.exit(f'error: {e}')
    report = compare_float_int8(cfg, args.onnx, out, evaluation,
                                args.threads, runtime=args.runtime)
    weights = os.path.splitext(out)[0] + '.bin'  # OpenVINO IR's weights
    sizes = [os.path.getsize(args.onnx) / 2**20, (os.path.getsize(out) + (
        os.path.getsize(weights) if out.endswith('.xml') else 0)) / 2**20]
    times = [median_ms(load_runtime(p, args.threads, r), evaluation[0])
             for p, r in ((args.onnx, args.runtime), (out, args.runtime))]
    print(f'{out}: int8 ({recipe}), calibrated on {len(calib)} images')
    print(f'size {sizes[0]:.2f} MB -> {sizes[1]:.2f} MB; {args.runtime} '
          f'batch 1: {times[0]:.1f} ms -> {times[1]:.1f} ms')
    print('int8 vs float on', ', '.join(
        f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
        for k, v in report.items()))
    if args.profile:
        profile, runtime = ((profile_onnx, 'ONNX Runtime')
                            if args.runtime == 'onnxruntime' else
                            (profile_openvino, 'OpenVINO'))
        for name, path in (('float', args.onnx), ('int8', out)):
            times, counts = profile(path, evaluation[0],
                                    threads=args.threads)
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
