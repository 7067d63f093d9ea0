"""Parameters and MAdds (one multiply-add counted once, as the EdgeNeXt paper
counts them) of a classification, detection or segmentation config's model.
Needs no data set.

    python tools/get_flops.py configs/edgenext_small_in1k.py
    python tools/get_flops.py configs/deeplabv3_edgenext_small_voc12aug.py --shape 512 512
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import MODELS, init_default_scope

import mmedgenext  # noqa: F401  (registries)
from mmedgenext.engine import count_complexity

_DEFAULT_SHAPES = {'mmpretrain': 256, 'mmdet': 320, 'mmseg': 512}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input H W (default: 256 classification, '
                        '320 detection, 512 segmentation)')
    parser.add_argument('--per-stage', action='store_true',
                        help='also print the backbone stages and the rest')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    scope = cfg.get('default_scope', 'mmengine')
    init_default_scope(scope)
    if 'custom_imports' in cfg:
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    cfg.model.backbone.init_cfg = None  # nothing to download for counting
    model = MODELS.build(cfg.model)
    size = args.shape or [_DEFAULT_SHAPES.get(scope, 256)]
    h, w = (size * 2)[:2]
    result = count_complexity(model, (3, h, w))
    print(f'{osp.basename(args.config)} at {h}x{w}: '
          f'{result["params"] / 1e6:.2f}M params '
          f'({result["params"]:,}), {result["madds"] / 1e6:.2f}M MAdds')
    if args.per_stage:
        by_module = result['by_module']
        rows = [(f'backbone.stages.{i}', by_module.get(
            f'model.backbone.stages.{i}', 0)) for i in range(4)]
        rows.append(('everything else', result['madds'] - sum(
            v for _, v in rows)))
        print('| part | MAdds |\n|---|---|')
        for name, value in rows:
            print(f'| {name} | {value / 1e6:.2f}M |')


if __name__ == '__main__':
    main()
