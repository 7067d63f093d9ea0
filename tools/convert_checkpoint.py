"""Convert a checkpoint to this plugin's layout: an EdgeNeXt one (official,
timm, mmpretrain, MindCV's MindSpore .ckpt) to an mmpretrain-style
classifier checkpoint holding ``backbone.*`` (mmedgenext.EdgeNeXt) and
``head.fc.*`` (LinearClsHead); an EdgeFormer one (the authors' ml-cvnets
files) to the state dict of the matching classifier, SSDLite or DeepLabv3
config's model. With ``--config`` the result is checked to load strictly
into that config's model.

    python tools/convert_checkpoint.py edgenext_small.pth edgenext_small_mm.pth
    python tools/convert_checkpoint.py edgenext_small-f530c372.ckpt \\
        edgenext_small_mindcv.pth
    python tools/convert_checkpoint.py checkpoint_ema_avg.pt ssd_mm.pth \\
        --config configs/ssdlite_edgeformer_s_coco.py
"""
import argparse
import os
import sys

import torch
from known_warnings import ignore_known_warnings

from mmedgenext.checkpoint import (extract_state_dict, read_checkpoint,
                                   resolve_checkpoint, to_classifier_layout)
from mmedgenext.checkpoint.cvnets import (convert_cvnets_state_dict,
                                          is_cvnets_edgeformer)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='path, URL or model-zoo name')
    parser.add_argument('dst', help='output .pth file')
    parser.add_argument('--config', help='check that the result loads '
                        'strictly into this config\'s model')
    parser.add_argument('--checkpoint-key', default='auto',
                        help="container to read: 'state_dict', 'model_ema', "
                        "'model' (default: the first present, in that order; "
                        "a MindCV training file holds model_ema and model)")
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle arbitrary objects (trusted files only)')
    return parser.parse_args()


# The released EdgeFormer files and the configs that take them.
CVNETS_CONFIGS = {
    'classification': ('mmpretrain', 'configs/edgeformer_s_in1k.py'),
    'detection': ('mmdet', 'configs/ssdlite_edgeformer_s_coco.py'),
    'segmentation': ('mmseg', 'configs/deeplabv3_edgeformer_s_voc12aug.py'),
}


def check_strict(config, state_dict, cvnets_task=None):
    from mmedgenext.apis import build_model, load_config
    from mmedgenext.tasks import MissingToolkitError
    try:
        cfg = load_config(config)
    except (FileNotFoundError, ValueError, MissingToolkitError) as e:
        sys.exit(f'error: {e}')
    scope, example = CVNETS_CONFIGS.get(cvnets_task, (None, None))
    if scope and cfg.default_scope != scope:
        sys.exit(f'error: an ml-cvnets {cvnets_task} file does not fit '
                 f'{config} ({cfg.default_scope}); give a {scope} config, '
                 f'e.g. --config {example}')
    model = build_model(cfg)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as e:
        sys.exit(f'error: the converted weights do not fit {config}: '
                 f'{str(e).splitlines()[1].strip()}')


def main():
    ignore_known_warnings()
    args = parse_args()
    path = resolve_checkpoint(args.src)
    try:
        state = extract_state_dict(
            read_checkpoint(path, args.trust_checkpoint), args.checkpoint_key)
        if is_cvnets_edgeformer(state):
            out, task = convert_cvnets_state_dict(state)
            fmt, note = f'ml-cvnets EdgeFormer {task}', ''
        else:
            task = None
            out, fmt, dropped = to_classifier_layout(state)
            note = (f', dropped {len(dropped)} non-backbone keys'
                    if dropped else '')
    except (KeyError, ValueError) as e:
        sys.exit(f'error: {e}')
    if args.config:
        check_strict(args.config, out, task)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=out,
                    meta=dict(source=os.path.basename(path),
                              source_format=fmt)), args.dst)
    print(f'{path} ({fmt} format) -> {args.dst}: {len(out)} tensors' + note
          + (f', loads strictly into {args.config}' if args.config else ''))


if __name__ == '__main__':
    main()
