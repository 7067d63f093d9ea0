"""Export a classification, SSD detection or segmentation config to ONNX
and check ONNX Runtime's outputs against PyTorch's on the same input.

The graph takes float (B, 3, H, W) BGR images with values 0-255 (what the
test pipeline produces) and normalises them itself: at the size the test
pipeline gives every image, or, where it keeps each image's own size
(mmseg's whole-image inference), at any size; --shape fixes another one.
Classifiers return logits; SSD detectors boxes, scores and labels after
NMS; segmentors the label map (or logits) at the input size.

    python tools/export_onnx.py configs/ssdlite_edgenext_xx_small_coco.py \
        work_dirs/ssdlite/epoch_200.pth --out ssdlite.onnx
    python tools/export_onnx.py configs/edgenext_xx_small_in1k.py none \
        --out cls.onnx --dynamic-batch --simplify
"""
import argparse
import sys

import numpy as np
import torch
from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

from mmedgenext.apis import build_model, load_config
from mmedgenext.deploy import (DEFAULT_OPSET, OnnxMismatchError, deploy_graph,
                               deploy_task, export_onnx, graph_input,
                               noise_images, pipeline_images,
                               size_from_test_pipeline, verify_onnx)
from mmedgenext.deploy.runtimes import RUNTIMES
from mmedgenext.tasks import MissingToolkitError, task_for


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint path, URL, model-zoo "
                        "name, or 'none' for the config's random init")
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument('--shape', type=int, nargs='+', metavar='H W',
                        help="a fixed input size (default: the test "
                        "pipeline's; height and width free where it keeps "
                        "each image's own size); test images are resized "
                        'to it')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='batch size free (checked at batch 2)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--simplify', action='store_true',
                        help='simplify the graph with onnxslim')
    parser.add_argument('--runtime', default='onnxruntime', choices=RUNTIMES,
                        help='the runtime whose graph form to write (its '
                        'LayerNorms as that runtime runs them fastest; the '
                        'same graph for models without LayerNorms)')
    parser.add_argument('--seg-output', default='labels',
                        choices=['labels', 'logits'])
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='tolerance on logits and scores')
    parser.add_argument('--check-images', metavar='DIR',
                        help='check on the first images of DIR, through '
                        'the test pipeline (default: noise images)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def _size_text(size):
    return f'{size[0]}x{size[1]}'


def describe_input(cfg, size, free, source):
    """What the graph's input is and where its size comes from; for
    --shape, what it changes."""
    if free:
        return (f'input: height and width free ({source}), traced at '
                f'{_size_text(size)}')
    line = f'input: {_size_text(size)} ({source})'
    if source == '--shape':
        tested, _ = size_from_test_pipeline(cfg)
        if tested != size:
            given = (f'images of {_size_text(tested)}' if tested else
                     'each image at its own size')
            line += (f'; note: the test pipeline gives {given}, which the '
                     f'graph\'s users (evaluation, quantize_onnx.py) resize '
                     f'to {_size_text(size)}: its predictions are not the '
                     'PyTorch model\'s on the test images')
    return line


def check_batches(cfg, folder, size, free, batch):
    """(images, what they are) to check the graph on: the first ``batch``
    images of ``folder`` through the test pipeline, or noise; a graph with
    free height and width at each image's own size, or on noise at the
    traced size and at another, non-square one."""
    if folder:
        images = list(pipeline_images(cfg, folder, None if free else size,
                                      batch))
        groups = {}
        for img in images:
            groups.setdefault(img.shape[2:], []).append(img)
        return [(torch.from_numpy(np.concatenate(group)), 'image')
                for group in groups.values()]
    sizes = [size] + ([(size[0] - size[0] // 4, size[1] + size[1] // 4)]
                      if free else [])
    return [(noise_images(batch, s), 'noise image') for s in sizes]


def main():
    ignore_known_warnings()
    args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options)
        model = build_model(cfg, args.checkpoint)
    except (FileNotFoundError, ValueError, MissingToolkitError) as e:
        sys.exit(f'error: {e}')
    except RuntimeError as e:  # strict loading: keys or shapes differ
        sys.exit(f'error: {args.checkpoint} does not fit {args.config}: {e}')
    try:
        for line in deploy_task(cfg, model).work_around(model):
            print(line)
        size, free, source = graph_input(cfg, args.shape)
        graph = deploy_graph(cfg, model, size, args.seg_output,
                             free_size=free, runtime=args.runtime)
        export_onnx(graph, args.out, size, opset=args.opset,
                    dynamic_batch=args.dynamic_batch, simplify=args.simplify,
                    free_size=free)
    except ValueError as e:  # e.g. EdgeFormer given a non-square --shape
        sys.exit(f'error: {e}')
    batch = 2 if args.dynamic_batch else 1
    try:
        checks = check_batches(cfg, args.check_images, size, free, batch)
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    shape = ('H', 'W') if free else size
    print(f'{args.out}: {task_for(cfg, model).name}, image '
          f'({"B" if args.dynamic_batch else 1}, 3, {shape[0]}, {shape[1]}) '
          f'-> {", ".join(graph.output_names)}, opset {args.opset}')
    print(describe_input(cfg, size, free, source))
    if graph.runtime:
        print(f'graph form: {graph.runtime}\'s (its LayerNorms as it runs '
              'them fastest; --runtime)')
    for img, kind in checks:
        try:
            report = verify_onnx(cfg, model, args.out, img.shape[2:],
                                 atol=args.atol, img=img)
        except OnnxMismatchError as e:
            sys.exit(f'error: ONNX Runtime disagrees with PyTorch on '
                     f'{args.out}: {e}')
        at = f' at {_size_text(img.shape[2:])}' if free else ''
        print(f'ONNX Runtime vs PyTorch ({len(img)} {kind}'
              f'{"s" if len(img) > 1 else ""}{at}): {report}')


if __name__ == '__main__':
    main()
