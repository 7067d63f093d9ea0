"""Parameters and MAdds (one multiply-add counted once, as the EdgeNeXt paper
counts them) of a classification, detection or segmentation config's model.
Needs no data set.

    python tools/get_flops.py configs/edgenext_small_in1k.py
    python tools/get_flops.py configs/deeplabv3_edgenext_small_voc12aug.py \
        --shape 512 512
    python tools/get_flops.py configs/edgeformer_s_in1k.py
"""
import argparse
import os.path as osp
import re
import sys

from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

from mmedgenext.analysis import count_complexity
from mmedgenext.apis import build_model, input_shape, load_config
from mmedgenext.tasks import MissingToolkitError


def main():
    ignore_known_warnings()
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input H W (default: 256 classification, '
                        '320 detection, 512 segmentation)')
    parser.add_argument('--per-stage', action='store_true',
                        help='also print the backbone stages and the rest')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (FileNotFoundError, ValueError, MissingToolkitError) as e:
        sys.exit(f'error: {e}')
    model = build_model(cfg)  # random init: nothing to download
    h, w = input_shape(cfg, args.shape)
    try:
        result = count_complexity(model, (3, h, w))
    except ValueError as e:  # e.g. EdgeFormer given a non-square --shape
        sys.exit(f'error: {e}')
    print(f'{osp.basename(args.config)} at {h}x{w}: '
          f'{result["params"] / 1e6:.2f}M params '
          f'({result["params"]:,}), {result["madds"] / 1e6:.2f}M MAdds')
    if args.per_stage:
        by_module = result['by_module']
        stages = [n for n in by_module if re.fullmatch(
            r'model\.backbone\.(stages\.\d+|conv_1|layer_\d)', n)]
        rows = [(n[len('model.'):], by_module[n]) for n in stages]
        rows.append(('everything else', result['madds'] - sum(
            v for _, v in rows)))
        print('| part | MAdds |\n|---|---|')
        for name, value in rows:
            print(f'| {name} | {value / 1e6:.2f}M |')


if __name__ == '__main__':
    main()
