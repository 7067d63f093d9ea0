"""Export a classification, SSD detection or segmentation config to ONNX
and check ONNX Runtime's outputs against PyTorch's on the same input.

The graph takes float (B, 3, H, W) BGR images with values 0-255 (what the
test pipeline produces) and normalises them itself. Classifiers return
logits; SSD detectors boxes, scores and labels after NMS; segmentors the
label map (or logits) at the input size.

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

from mmedgenext.apis import build_model, input_shape, load_config
from mmedgenext.deploy import (DEFAULT_OPSET, OnnxMismatchError, deploy_graph,
                               export_onnx, pipeline_images, verify_onnx)
from mmedgenext.tasks import MissingToolkitError, task_for


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="checkpoint path, URL, model-zoo "
                        "name, or 'none' for the config's random init")
    parser.add_argument('--out', required=True, help='ONNX file to write')
    parser.add_argument('--shape', type=int, nargs='+', metavar='H W',
                        help='input size (default: 256 classification, '
                        '320 detection, 512 segmentation)')
    parser.add_argument('--dynamic-batch', action='store_true',
                        help='batch size free (checked at batch 2)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET)
    parser.add_argument('--simplify', action='store_true',
                        help='simplify the graph with onnxslim')
    parser.add_argument('--seg-output', default='labels',
                        choices=['labels', 'logits'])
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='tolerance on logits and scores')
    parser.add_argument('--check-images', metavar='DIR',
                        help='check on the first images of DIR, through '
                        'the test pipeline (default: noise images)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


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
        size = input_shape(cfg, args.shape)
        graph = deploy_graph(cfg, model, size, args.seg_output)
    except ValueError as e:
        sys.exit(f'error: {e}')
    try:
        export_onnx(graph, args.out, size, opset=args.opset,
                    dynamic_batch=args.dynamic_batch, simplify=args.simplify)
    except ValueError as e:  # e.g. EdgeFormer given a non-square --shape
        sys.exit(f'error: {e}')
    batch = 2 if args.dynamic_batch else 1
    img = None
    if args.check_images:
        try:
            img = torch.from_numpy(np.concatenate(list(pipeline_images(
                cfg, args.check_images, size, batch))))
        except FileNotFoundError as e:
            sys.exit(f'error: {e}')
    print(f'{args.out}: {task_for(cfg, model).name}, image '
          f'({"B" if args.dynamic_batch else 1}, 3, {size[0]}, {size[1]}) '
          f'-> {", ".join(graph.output_names)}, opset {args.opset}')
    try:
        report = verify_onnx(cfg, model, args.out, size, batch, args.atol,
                             img)
    except OnnxMismatchError as e:
        sys.exit(f'error: ONNX Runtime disagrees with PyTorch on '
                 f'{args.out}: {e}')
    print(f'ONNX Runtime vs PyTorch ({len(img) if img is not None else batch}'
          f' {"noise " if img is None else ""}images): {report}')


if __name__ == '__main__':
    main()
