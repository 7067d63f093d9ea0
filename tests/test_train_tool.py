"""tools/train.py's options as a user runs them (``python tools/train.py``
in a subprocess) on a tiny classification config: ``--amp`` on a machine
without a GPU, ``--auto-scale-lr`` and ``--resume PATH`` (``--resume`` of
the latest checkpoint after an interruption: test_detection.py)."""
import glob
import json
import math
import os
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, cls_small_cfg
from mmengine.optim import OptimWrapper

from mmedgenext.synthetic_data import write_classification_set


@pytest.fixture(scope='module')
def cls_root(tmp_path_factory):
    """6 images of 64 px, 2 per class."""
    root = str(tmp_path_factory.mktemp('cls'))
    write_classification_set(root, per_class_train=2, per_class_val=0,
                             size=64)
    return root


def train_tool(config, *args):
    """Run tools/train.py as a user does, from the repository root, with
    this process's number of threads (so that runs compare exactly)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()),
               PYTHONPATH=os.pathsep.join(
                   [ROOT] + os.environ.get('PYTHONPATH', '').split(
                       os.pathsep)))
    result = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), *map(str, args)],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def logged_iterations(work_dir):
    """The training iterations' entries of the run's scalars.json."""
    path, = glob.glob(os.path.join(work_dir, '*', 'vis_data',
                                   'scalars.json'))
    with open(path) as f:
        entries = [json.loads(line) for line in f]
    return [e for e in entries if 'loss' in e]


def train_in_process(cfg):
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


@pytest.mark.slow
def test_amp_and_auto_scale_lr_on_cpu(cls_root, tmp_path):
    """``--amp``: mmengine's AmpOptimWrapper refuses a machine without a
    GPU, so the tool autocasts to bfloat16 there; the loss falls, and the
    first one differs from float32's by bfloat16 rounding, no more.
    ``--auto-scale-lr``: the config's lr 2e-3 is for a batch of 32
    (auto_scale_lr), so batches of 6 train at 2e-3 * 6 / 32 throughout."""
    cfg = cls_small_cfg(cls_root, tmp_path / 'fp32', 4, 6)
    assert cfg.optim_wrapper.optimizer.lr == 2e-3
    assert cfg.auto_scale_lr.base_batch_size == 32
    cfg.dump(str(tmp_path / 'cfg.py'))
    train_tool(tmp_path / 'cfg.py', '--amp', '--auto-scale-lr',
               '--work-dir', tmp_path / 'amp')
    log, = glob.glob(str(tmp_path / 'amp' / '*' / '*.log'))
    assert "type='mmedgenext.CPUAmpOptimWrapper'" in open(log).read()
    steps = logged_iterations(tmp_path / 'amp')
    assert [e['lr'] for e in steps] == [
        pytest.approx(2e-3 * 6 / 32, rel=1e-12)] * 4
    losses = [e['loss'] for e in steps]
    assert all(map(math.isfinite, losses)) and losses[-1] < losses[0]
    cfg.train_cfg.max_iters = 1
    assert type(train_in_process(cfg).optim_wrapper) is OptimWrapper
    fp32 = logged_iterations(tmp_path / 'fp32')[0]['loss']
    assert losses[0] == pytest.approx(fp32, rel=2e-2)
    assert losses[0] != pytest.approx(fp32, rel=1e-4)


@pytest.mark.slow
def test_resume_from_a_checkpoint_file_continues_that_run(
        cls_root, tmp_path):
    """``--resume work/iter_3.pth`` into another work dir: iterations 4-6
    with the uninterrupted run's lr schedule and losses, ending on the same
    weights and optimizer state."""
    def cfg(work_dir):
        c = cls_small_cfg(cls_root, work_dir, 6, 3)
        c.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False,
                                  begin=0, end=6, eta_min=1e-5)]
        c.default_hooks.checkpoint.interval = 3
        return c

    train_in_process(cfg(tmp_path / 'full'))
    full = logged_iterations(tmp_path / 'full')
    cfg(tmp_path / 'unused').dump(str(tmp_path / 'cfg.py'))
    train_tool(tmp_path / 'cfg.py', '--work-dir', tmp_path / 'resumed',
               '--resume', tmp_path / 'full' / 'iter_3.pth')
    resumed = logged_iterations(tmp_path / 'resumed')
    assert [e['step'] for e in resumed] == [4, 5, 6]
    for ours, theirs in zip(resumed, full[3:]):
        assert (ours['lr'], ours['loss']) == (theirs['lr'], theirs['loss'])
    ours, theirs = (torch.load(tmp_path / run / 'iter_6.pth',
                               weights_only=False)
                    for run in ('resumed', 'full'))
    assert ours['meta']['iter'] == 6
    torch.testing.assert_close(ours['state_dict'], theirs['state_dict'],
                               rtol=0, atol=0)
    torch.testing.assert_close(ours['optimizer']['state'],
                               theirs['optimizer']['state'], rtol=0, atol=0)
