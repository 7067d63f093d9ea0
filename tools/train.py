"""Train a detection, segmentation or classification config (mmdet, mmseg or
mmpretrain, found from the config's default_scope) with mmengine's Runner.

    python tools/train.py configs/ssdlite_edgenext_small_coco.py
    bash tools/dist_train.sh CONFIG 8
"""
import argparse
import sys

from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

import mmedgenext  # noqa: F401  (registries, safe checkpoint loading)
from mmedgenext.tasks import MissingToolkitError, read_config
from mmedgenext.utils import apply_train_args, run_runner


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the LR to the actual batch size')
    parser.add_argument('--resume', nargs='?', const='auto',
                        help='resume from a checkpoint, or with no value '
                        'from the latest one in the work dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main():
    ignore_known_warnings()
    args = parse_args()
    try:
        cfg = read_config(args.config, args.cfg_options)
    except (FileNotFoundError, ValueError, MissingToolkitError) as e:
        sys.exit(f'error: {e}')
    apply_train_args(cfg, args.config, args.work_dir, args.amp,
                     args.auto_scale_lr, args.resume, args.launcher)
    run_runner(cfg, 'train')


if __name__ == '__main__':
    main()
