"""Convert an EdgeNeXt checkpoint (official, timm, mmpretrain) to this
plugin's layout: an mmpretrain-style classifier checkpoint holding
``backbone.*`` (mmedgenext.EdgeNeXt) and ``head.fc.*`` (LinearClsHead).

    python tools/convert_checkpoint.py edgenext_small.pth edgenext_small_mm.pth
"""
import argparse
import os

import torch

from mmedgenext.checkpoint import (extract_state_dict, read_checkpoint,
                                   resolve_checkpoint, to_classifier_layout)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='path, URL or model-zoo name')
    parser.add_argument('dst', help='output .pth file')
    parser.add_argument('--checkpoint-key', default='auto',
                        help="container to read: 'state_dict', 'model_ema', "
                        "'model' (default: the first present, in that order)")
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='unpickle arbitrary objects (trusted files only)')
    return parser.parse_args()


def main():
    args = parse_args()
    path = resolve_checkpoint(args.src)
    state = extract_state_dict(
        read_checkpoint(path, args.trust_checkpoint), args.checkpoint_key)
    out, fmt, dropped = to_classifier_layout(state)
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=out,
                    meta=dict(source=os.path.basename(path),
                              source_format=fmt)), args.dst)
    print(f'{path} ({fmt} format) -> {args.dst}: {len(out)} tensors'
          + (f', dropped {len(dropped)} non-backbone keys' if dropped else ''))


if __name__ == '__main__':
    main()
