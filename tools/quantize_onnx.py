"""Static int8 quantization of a graph written by tools/export_onnx.py,
calibrated on a folder of images, for ONNX Runtime (a QDQ ONNX file, which
OpenVINO runs too) or OpenVINO (NNCF, an OpenVINO IR file), with a report
of how far int8 moves the outputs and how fast each runs. By default both
are made and timed on this CPU, and the int8 graph of the runtime whose
int8 runs fastest is kept (--runtime makes only that one's). With
--eval-set the PyTorch model of --checkpoint, the float graph and int8 are
scored with the config's test metric: exit status 3 when the float graph
differs from PyTorch by more than 0.1 point, or int8 scores more than
--max-drop points below either. The work is mmedgenext.deploy.quantize's
and mmedgenext.deploy.profile's.

    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train
    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train --runtime onnxruntime \
        --out cls_int8.onnx
    python tools/quantize_onnx.py configs/edgenext_xx_small_in1k.py \
        cls.onnx --calib-dir data/synthetic/cls/train --runtime openvino
    python tools/quantize_onnx.py configs/ssdlite_edgenext_xx_small_coco.py \
        det.onnx --calib-dir data/coco/train2017 --eval-set 500 \
        --checkpoint work_dirs/ssdlite/epoch_200.pth
"""
import argparse
import os
import shutil
import sys
import tempfile

from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

from mmedgenext.apis import build_model, load_config
from mmedgenext.deploy import load_runtime, pipeline_images
from mmedgenext.deploy.evaluation import (MAX_FLOAT_DIFF, evaluate_onnx,
                                          runner_metrics)
from mmedgenext.deploy.profile import PROFILERS, fastest, latency_by_runtime
from mmedgenext.deploy.quantize import (CALIBRATION_METHODS, MAX_DROP,
                                        compare_float_int8, metric_drop,
                                        quantization_recipe, quantize)
from mmedgenext.deploy.export import graph_runtime
from mmedgenext.deploy.runtimes import (RUNTIMES, RuntimeCrash, graph_file_mb,
                                        has_openvino)
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
                        metavar='N', help="also score the PyTorch model "
                        "(--checkpoint), float and int8 with the config's "
                        'test metric on its test set (the first N images; '
                        'all without N)')
    parser.add_argument('--checkpoint', help='with --eval-set: the '
                        'checkpoint the graph was exported from')
    parser.add_argument('--max-drop', type=float, default=MAX_DROP,
                        metavar='POINTS', help='with --eval-set: the most '
                        'points (percent: 1 = 0.01 mAP, 1%% top-1, 1 mIoU) '
                        'int8 may score below the float graph or PyTorch '
                        "on the config's main metric; more exits with "
                        'status 3')
    parser.add_argument('--work-dir', help='logs of the --eval-set runs '
                        '(default: a temporary folder)')
    parser.add_argument('--runtime', choices=RUNTIMES,
                        help='onnxruntime: QDQ ONNX by its quantizer (runs '
                        'in OpenVINO too); openvino: NNCF, OpenVINO IR '
                        '(default: both made and timed here, the one whose '
                        'int8 runs faster kept)')
    parser.add_argument('--out', help='int8 graph (default: '
                        '<onnx>_int8.onnx, <onnx>_int8_openvino.xml; by '
                        'default its suffix follows the runtime kept)')
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


def note_graph_form(path, runtime):
    """A note when the graph's LayerNorms are in another runtime's form
    than that of ``runtime``, the one to ship."""
    form = graph_runtime(path)
    if form and form != runtime:
        print(f'note: {path} is written in the form {form} runs fastest; '
              f'export it with tools/export_onnx.py --runtime {runtime} for '
              f'{runtime}\'s own (faster there)')


def int8_path(args, runtime):
    """Where the int8 graph for ``runtime`` goes: --out (its suffix that of
    the runtime's file when the runtime was chosen here), else beside the
    float graph."""
    suffix = '.onnx' if runtime == 'onnxruntime' else '.xml'
    if args.out:
        return (args.out if args.runtime else
                os.path.splitext(args.out)[0] + suffix)
    return os.path.splitext(args.onnx)[0] + (
        '_int8' if runtime == 'onnxruntime' else '_int8_openvino') + suffix


def make_int8(args, calib, tmpdir):
    """The int8 graph of --runtime, or of each installed runtime in
    ``tmpdir``: {runtime: path}."""
    if args.runtime:
        runtimes = [args.runtime]
    else:
        runtimes = [r for r in RUNTIMES if r != 'openvino' or has_openvino()]
    paths = {}
    for runtime in runtimes:
        path = int8_path(args, runtime) if args.runtime else os.path.join(
            tmpdir, os.path.basename(int8_path(args, runtime)))
        paths[runtime] = quantize(
            args.onnx, path, calib, runtime=runtime, op_types=args.op_types,
            per_channel=args.per_channel, method=args.method)
    return paths


def keep_fastest_int8(args, paths, latencies):
    """The runtime whose int8 graph runs fastest here, its file moved from
    the temporary folder to where :func:`int8_path` puts it."""
    runtime = fastest({k: v for k, v in latencies.items()
                       if k[0] in paths}, 'int8')[0]
    out = int8_path(args, runtime)
    shutil.move(paths[runtime], out)
    if runtime == 'openvino':  # the IR's weights, beside it
        shutil.move(os.path.splitext(paths[runtime])[0] + '.bin',
                    os.path.splitext(out)[0] + '.bin')
    return runtime, out


def trained_model(cfg, config, checkpoint):
    """The PyTorch model --eval-set scores beside the graphs; ValueError
    without a checkpoint or with one that does not fit the config."""
    if not checkpoint:
        raise ValueError('--eval-set scores the PyTorch model too, and holds '
                         'the float graph to it: give the checkpoint the '
                         'graph was exported from (--checkpoint)')
    try:
        return build_model(cfg, checkpoint)
    except RuntimeError as e:  # strict loading: keys or shapes differ
        raise ValueError(f'{checkpoint} does not fit {config}: {e}') from None


def report_quality(cfg, pytorch, float_, int8, max_drop):
    """Print the three models' test metrics and the verdicts: the float
    graph within MAX_FLOAT_DIFF points of PyTorch (else it is not the
    trained model), int8 at most ``max_drop`` points below either.
    Returns the exit status: 0, or 3 after an ``error:`` line per failure.
    """
    for key in pytorch:
        print(f'test set {key}: PyTorch {pytorch[key]:.4g}, float '
              f'{float_[key]:.4g}, int8 {int8[key]:.4g}')
    key, float_diff = metric_drop(cfg, pytorch, float_)
    float_ok = abs(float_diff) <= MAX_FLOAT_DIFF
    print(f'float graph vs PyTorch: {key} differs by {abs(float_diff):.2f} '
          f'points (limit {MAX_FLOAT_DIFF:g}): '
          f'{"ok" if float_ok else "DIFFERENT"}')
    drops = [metric_drop(cfg, reference, int8)[1]
             for reference in (float_, pytorch)]
    int8_ok = max(drops) <= max_drop
    print(f'int8 quality: {key} drop {drops[0]:.2f} points from float, '
          f'{drops[1]:.2f} from PyTorch (limit {max_drop:g}): '
          f'{"ok" if int8_ok else "TOO LOW"}')
    if not float_ok:
        print(f'error: the float graph scores {key} {float_[key]:.4g}, the '
              f'PyTorch model {pytorch[key]:.4g}: the graph does not compute '
              'what was trained (exported at another input size than the '
              "test pipeline's, e.g. with --shape?)", file=sys.stderr)
    if not int8_ok:
        print(f'error: int8 loses {max(drops):.2f} points of {key}, more '
              f'than --max-drop {max_drop:g}', file=sys.stderr)
    return 0 if float_ok and int8_ok else 3


def main():
    ignore_known_warnings()
    args = parse_args()
    options = dict(op_types=args.op_types, per_channel=args.per_channel,
                   method=args.method)
    tmpdir = tempfile.TemporaryDirectory()
    try:
        if not os.path.isfile(args.onnx):
            raise FileNotFoundError(f'ONNX file not found: {args.onnx}')
        if not args.runtime and any(v is not None for v in options.values()):
            raise ValueError('--method, --per-tensor and --op-types are '
                             'options of ONNX Runtime\'s quantizer: give '
                             '--runtime onnxruntime with them')
        if args.runtime:  # refuse options NNCF lacks before any work
            quantization_recipe(args.runtime, **options)
        cfg = load_config(args.config, args.cfg_options)
        if args.eval_set is not None:
            check_data_roots(cfg, loaders=('test_dataloader', ))
            model = trained_model(cfg, args.config, args.checkpoint)
        size = tuple(load_runtime(args.onnx).input_shape[2:])
        calib = list(pipeline_images(cfg, args.calib_dir, size,
                                     args.num_calib))
        evaluation = calib if not args.eval_dir else list(pipeline_images(
            cfg, args.eval_dir, size, args.num_eval))
        paths = make_int8(args, calib, tmpdir.name)
    except (FileNotFoundError, ValueError, ImportError) as e:
        sys.exit(f'error: {e}')
    latencies = latency_by_runtime(args.onnx, paths, evaluation[0],
                                   args.threads)
    if args.runtime:
        runtime, out = args.runtime, paths[args.runtime]
    else:
        runtime, out = keep_fastest_int8(args, paths, latencies)
    tmpdir.cleanup()
    report = compare_float_int8(cfg, args.onnx, out, evaluation,
                                args.threads, runtime=runtime)
    recipe = quantization_recipe(runtime, **options)
    print(f'{out}: int8 for {runtime} ({recipe}), calibrated on '
          f'{len(calib)} images' + ('' if args.runtime else
                                    ', its int8 the faster here'))
    print(f'size {graph_file_mb(args.onnx):.2f} MB -> '
          f'{graph_file_mb(out):.2f} MB')
    print_latencies(latencies, runtime)
    note_graph_form(args.onnx, fastest(latencies)[0])
    print('int8 vs float on', ', '.join(
        f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
        for k, v in report.items()))
    if args.profile:
        title = {'onnxruntime': 'ONNX Runtime',
                 'openvino': 'OpenVINO'}[runtime]
        for name, path in (('float', args.onnx), ('int8', out)):
            times, counts = PROFILERS[runtime](
                path, evaluation[0], threads=args.threads)
            total = sum(times.values())
            print(f'{title} profile, {name}: {total:.1f} ms in '
                  f'{sum(counts.values())} nodes')
            for kind, ms in list(times.items())[:args.profile]:
                print(f'  {kind:40s} {counts[kind]:4d} nodes {ms:7.2f} ms '
                      f'{100 * ms / total:5.1f}%')
    if args.eval_set is not None:
        limit = None if args.eval_set < 0 else args.eval_set
        status = report_quality(
            cfg, runner_metrics(cfg, model, limit, args.work_dir),
            evaluate_onnx(cfg, args.onnx, limit, args.threads,
                          work_dir=args.work_dir),
            evaluate_onnx(cfg, out, limit, args.threads, runtime,
                          args.work_dir), args.max_drop)
        if status:
            sys.exit(status)
    else:
        print('int8 quality: not checked against a test metric (--eval-set)')


if __name__ == '__main__':
    try:
        main()
    except RuntimeCrash as e:  # a runtime died running a graph
        sys.exit(f'error: {e}')
