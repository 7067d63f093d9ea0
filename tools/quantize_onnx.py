"""Static int8 quantization (ONNX Runtime) of a graph written by
tools/export_onnx.py, calibrated on a folder of images, with a report of
how far int8 moves the outputs and how fast each runs.

    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train --out cls_int8.onnx
    python tools/quantize_onnx.py configs/ssdlite_edgenext_xx_small_coco.py \
        det.onnx --calib-dir data/coco/train2017 --eval-set 500
"""
import argparse
import os
import sys
import time

import numpy as np
from mmengine.config import DictAction

from mmedgenext.deploy import (load_config, onnx_session, pipeline_images,
                               run_onnx)
from mmedgenext.engine import check_data_roots
from mmedgenext.deploy.quantize import (CALIBRATION_METHODS,
                                        DEFAULT_OP_TYPES, compare_float_int8,
                                        evaluate_onnx, quantize_onnx)


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
    parser.add_argument('--out', help='int8 graph (default: '
                        '<onnx>_int8.onnx)')
    parser.add_argument('--method', default='minmax',
                        choices=sorted(CALIBRATION_METHODS))
    parser.add_argument('--per-tensor', action='store_true',
                        help='one weight scale per tensor, not per channel')
    parser.add_argument('--op-types', nargs='+', default=DEFAULT_OP_TYPES,
                        help='ONNX op types to quantize')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def median_ms(session, img, rounds=20):
    run_onnx(session, img)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run_onnx(session, img)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main():
    args = parse_args()
    out = args.out or os.path.splitext(args.onnx)[0] + '_int8.onnx'
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
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    quantize_onnx(args.onnx, out, calib, args.op_types,
                  per_channel=not args.per_tensor, method=args.method)
    report = compare_float_int8(cfg, args.onnx, out, evaluation,
                                args.threads)
    sizes = [os.path.getsize(p) / 2**20 for p in (args.onnx, out)]
    times = [median_ms(onnx_session(p, args.threads), evaluation[0])
             for p in (args.onnx, out)]
    print(f'{out}: int8 ({args.method}, '
          f'{"per-tensor" if args.per_tensor else "per-channel"} weights, '
          f'{"/".join(args.op_types)}), calibrated on {len(calib)} images')
    print(f'size {sizes[0]:.2f} MB -> {sizes[1]:.2f} MB; ONNX Runtime '
          f'batch 1: {times[0]:.1f} ms -> {times[1]:.1f} ms')
    print('int8 vs float on', ', '.join(
        f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
        for k, v in report.items()))
    if args.eval_set is not None:
        limit = None if args.eval_set < 0 else args.eval_set
        scores = [evaluate_onnx(cfg, p, limit, args.threads)
                  for p in (args.onnx, out)]
        for key in scores[0]:
            print(f'test set {key}: float {scores[0][key]:.4g}, int8 '
                  f'{scores[1][key]:.4g}')


if __name__ == '__main__':
    main()
