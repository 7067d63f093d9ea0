"""What tools/train.py and tools/test.py do to a config before the Runner
takes it, and the run itself, for mmdet, mmseg and mmpretrain configs alike
(the library is the config's ``default_scope``)."""
import os
import os.path as osp
import sys

from .dist import finish_distributed, init_cpu_distributed

_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class DataNotFoundError(FileNotFoundError):
    """A dataset path of the config does not exist."""


def apply_train_args(cfg, config_path, work_dir=None, amp=False,
                     auto_scale_lr=False, resume=None, launcher='none'):
    """mmdet's train.py options: work dir (default
    ``work_dirs/<config name>``), AMP (bfloat16 autocast on a machine
    without a GPU, where mmengine's AmpOptimWrapper refuses to run), LR
    scaling by batch size, and resume (``'auto'``: the latest checkpoint of
    the work dir, or a path)."""
    from mmengine.device import get_device
    cfg.launcher = launcher
    cfg.work_dir = work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(config_path))[0])
    if amp and get_device() == 'cpu':
        cfg.optim_wrapper.type = 'mmedgenext.CPUAmpOptimWrapper'
    elif amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError(f'{config_path} has no auto_scale_lr setting '
                             '(base_batch_size) to scale from')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume:
        cfg.resume, cfg.load_from = True, resume
    return cfg


def _datasets(dataset):
    """A dataset config and those it wraps (Concat, Repeat, ClassBalanced)."""
    yield dataset
    for inner in dataset.get('datasets', []):
        yield from _datasets(inner)
    if isinstance(dataset.get('dataset'), dict):
        yield from _datasets(dataset['dataset'])


def _expected_paths(dataset):
    root = dataset.get('data_root') or ''
    if root:
        yield root
    if dataset.get('ann_file'):
        yield osp.join(root, dataset['ann_file'])
    prefix = dataset.get('data_prefix')
    for sub in (prefix.values() if isinstance(prefix, dict) else [prefix]):
        if isinstance(sub, str) and sub:
            yield osp.join(root, sub)


def check_data_roots(cfg, loaders=_LOADERS):
    """Raise :class:`DataNotFoundError` naming the first missing path and
    how to prepare the data (the config's ``data_preparation`` note)."""
    for name in loaders:
        loader = cfg.get(name)
        if not loader or 'dataset' not in loader:
            continue
        for dataset in _datasets(loader.dataset):
            for path in _expected_paths(dataset):
                if not osp.exists(path):
                    how = cfg.get('data_preparation') or (
                        'Prepare the dataset there, or point the config '
                        f'elsewhere, e.g. --cfg-options {name}.dataset.'
                        'data_root=/path/to/data')
                    raise DataNotFoundError(
                        f'{name}: {path} does not exist (from {os.getcwd()})'
                        f'.\n{how}')


def run_runner(cfg, action, loaders=_LOADERS):
    """Build the config's Runner (its ``runner_type`` if it names one) and
    call ``action`` ('train' or 'test') on it, on the CPU too with
    ``--launcher pytorch``. A checkpoint that would run code
    (``load_from``, ``resume``), a missing data path or an unreadable image
    ends the process with one ``error:`` line instead of a traceback."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from mmedgenext.checkpoint import (UnsafeCheckpointError,
                                       refuse_unsafe_checkpoints)
    from mmedgenext.datasets import dataset_error_message
    init_cpu_distributed(cfg)
    try:
        check_data_roots(cfg, loaders)
        runner = (RUNNERS.build(cfg)
                  if 'runner_type' in cfg else Runner.from_cfg(cfg))
        with refuse_unsafe_checkpoints():
            getattr(runner, action)()
        finish_distributed()
    except (DataNotFoundError, UnsafeCheckpointError) as e:
        sys.exit(f'error: {e}')
    except Exception as e:
        message = dataset_error_message(e)
        if message is None:
            raise
        sys.exit(f'error: {message}')
