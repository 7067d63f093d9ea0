"""Evaluate a checkpoint on a detection, segmentation or classification
config; the authors' and MindCV's EdgeNeXt release files are accepted as
they are.

    python tools/test.py configs/edgenext_small_in1k.py edgenext_small.pth
    python tools/test.py configs/edgenext_small_in1k.py mindcv_edgenext_small
    python tools/test.py CONFIG CHECKPOINT --show-dir vis/
"""
import argparse
import sys

from known_warnings import ignore_known_warnings
from mmengine.config import DictAction

import mmedgenext  # noqa: F401  (registries, safe checkpoint loading)
from mmedgenext.tasks import MissingToolkitError, read_config, task_for
from mmedgenext.utils import run_runner


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint path, URL or '
                        'model-zoo name')
    parser.add_argument('--work-dir', help='where the logs go')
    parser.add_argument('--show-dir', help='write drawn predictions here')
    parser.add_argument('--show', action='store_true',
                        help='show predictions in a window')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='seconds per shown image')
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
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or 'work_dirs/test'
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        task = task_for(cfg)
        task.enable_visualization(args.show_dir, args.show, args.wait_time)
    run_runner(cfg, 'test', loaders=('test_dataloader', ))


if __name__ == '__main__':
    main()
