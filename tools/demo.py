"""Run a trained model on one image and save the drawn result: boxes, labels
and scores (detection), a coloured class overlay (segmentation) or the top
class (classification). The library is the config's default_scope.

    python tools/demo.py demo.jpg CONFIG CHECKPOINT --out result.png
"""
import argparse
import sys

import mmcv
from known_warnings import ignore_known_warnings

from mmedgenext.apis import load_config
from mmedgenext.checkpoint import refuse_unsafe_checkpoints
from mmedgenext.tasks import MissingToolkitError, task_for


def main():
    ignore_known_warnings()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('image')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='path, URL or model-zoo name')
    parser.add_argument('--out', default='result.png')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: lowest score drawn')
    args = parser.parse_args()
    try:
        cfg = load_config(args.config)  # also enters the library's scope
    except (FileNotFoundError, ValueError, MissingToolkitError) as e:
        sys.exit(f'error: {e}')
    try:
        image = mmcv.imread(args.image)  # BGR, as the inference APIs take
    except Exception as e:  # mmcv raises several kinds for bad files
        sys.exit(f'error: cannot read image {args.image}: {e}')
    if image is None:
        sys.exit(f'error: cannot read image {args.image}')
    with refuse_unsafe_checkpoints():
        task_for(cfg).infer_and_draw(args.checkpoint, image, args.out,
                                     args.device, args.score_thr)
    print(f'{args.out} written')


if __name__ == '__main__':
    main()
