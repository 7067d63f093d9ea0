"""SSDLite-EdgeNeXt: the paper configs' settings; on the synthetic set the
loop resumes and runs under 2-process DDP, and the tools draw detections
and report bad data clearly (what a trained detector scores:
test_learning.py)."""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, det_small_cfg, randomize_, train_briefly
from mmengine.config import Config
from PIL import Image

from mmedgenext.synthetic_data import write_detection_set

# mmdet-native SSDLite configs (the ml-cvnets ones: test_edgeformer_heads.py)
CONFIGS = sorted(c for c in glob.glob(
    os.path.join(ROOT, 'configs', 'ssdlite_edgenext_*.py'))
    if not c.endswith('_cvnets.py'))
SYNTHETIC = os.path.join(ROOT, 'configs',
                         'ssdlite_edgenext_xx_small_synthetic.py')


def test_all_paper_configs_exist():
    names = {os.path.basename(c) for c in CONFIGS}
    for arch in ('xx_small', 'x_small', 'small', 'base'):
        for data in ('coco', 'voc'):
            assert f'ssdlite_edgenext_{arch}_{data}.py' in names


@pytest.mark.slow
def test_paper_configs_start_from_imagenet():
    """(Building, sizes and a training step of every config:
    test_config_sizes.py.)"""
    for path in CONFIGS:
        if 'synthetic' in path:
            continue
        cfg = Config.fromfile(path)
        assert cfg.model.backbone.init_cfg == dict(
            type='Pretrained',
            checkpoint=f'edgenext_{cfg.model.backbone.arch}')
        assert cfg.model.bbox_head.num_classes == (
            80 if path.endswith('_coco.py') else 20)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('det'))
    write_detection_set(root, num_train=16, num_val=4)
    return root


@pytest.fixture(scope='module')
def trained(det_root, tmp_path_factory):
    """A config file and the checkpoint of a 2-iteration run."""
    work = tmp_path_factory.mktemp('trained')
    return train_briefly(det_small_cfg(det_root, work / 'work', 2), work)


def run_tool(*args, check=True):
    return subprocess.run([sys.executable, *args], cwd=ROOT,
                          capture_output=True, text=True, check=check)


@pytest.mark.slow
def test_test_tool_evaluates_and_draws(trained, tmp_path):
    cfg_path, checkpoint = trained
    out = run_tool('tools/test.py', cfg_path, checkpoint, '--show-dir',
                   str(tmp_path / 'vis'), '--work-dir', str(tmp_path / 'test'))
    assert 'coco/bbox_mAP' in out.stdout + out.stderr
    drawn = glob.glob(str(tmp_path / 'vis' / '**' / '*.jpg'), recursive=True)
    assert len(drawn) == 4  # one per validation image


@pytest.fixture(scope='module')
def scoring_detector(trained, tmp_path_factory):
    """The 2-iteration detector with a seeded random head: its scores vary
    with the image, so a threshold can split its detections (the trained
    head still scores every prior the same). Saved with the run's dataset
    metadata (classes and palette)."""
    import torch
    from mmdet.apis import init_detector
    cfg_path, checkpoint = trained
    model = init_detector(cfg_path, checkpoint, device='cpu')
    randomize_(model.bbox_head, seed=5)
    saved = torch.load(checkpoint, map_location='cpu', weights_only=False)
    path = str(tmp_path_factory.mktemp('scoring') / 'scoring.pth')
    torch.save(dict(meta=saved['meta'], state_dict=model.state_dict()),
               path)
    return cfg_path, path


def box_edges(box, shape, margin=0):
    """A mask of the pixels within ``margin`` of ``box``'s four edge lines
    (its corners left out) in an image of ``shape``."""
    mask = np.zeros(shape[:2], bool)
    h, w = mask.shape
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    x1, x2 = np.clip([x1, x2], 1, w - 2)
    y1, y2 = np.clip([y1, y2], 1, h - 2)
    for y in (y1, y2):
        mask[max(y - margin, 0):y + margin + 1, x1 + 5:x2 - 4] = True
    for x in (x1, x2):
        mask[y1 + 5:y2 - 4, max(x - margin, 0):x + margin + 1] = True
    return mask


def colour_share(drawn, under, mask, colour, alpha=0.8, tol=30):
    """The share of the pixels of ``mask`` that show ``colour`` blended
    with ``alpha`` over the image ``under`` them, as mmdet's visualizer
    draws box edges."""
    expected = alpha * np.array(colour) + (1 - alpha) * under[mask]
    return (np.abs(drawn[mask] - expected).max(-1) <= tol).mean()


@pytest.mark.slow
def test_demo_draws_the_detections_above_the_threshold(scoring_detector,
                                                       det_root, tmp_path):
    """The image tools/demo.py writes is what mmdet's inference API and
    visualizer give for these detections at --score-thr: the palette colour
    of its class along each box above the threshold, and not along a lower
    box apart from them."""
    import mmcv
    from mmdet.apis import inference_detector, init_detector
    from mmdet.registry import VISUALIZERS
    cfg_path, checkpoint = scoring_detector
    image = os.path.join(det_root, 'val', 'val_00000.jpg')
    model = init_detector(cfg_path, checkpoint, device='cpu')
    result = inference_detector(model, mmcv.imread(image))
    pred = result.pred_instances
    pred = pred[pred.scores.argsort(descending=True)]
    assert pred.scores[2] > pred.scores[3]
    threshold = float(pred.scores[2] + pred.scores[3]) / 2
    out = tmp_path / 'out.png'
    run_tool('tools/demo.py', image, cfg_path, checkpoint, '--out', str(out),
             '--score-thr', str(threshold))
    drawn = np.asarray(Image.open(out).convert('RGB')).astype(int)
    under = mmcv.imread(image, channel_order='rgb').astype(int)
    assert drawn.shape == under.shape == (320, 320, 3)

    visualizer = VISUALIZERS.build(dict(model.cfg.visualizer,
                                        name='demo_test'))
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('expected', under.astype(np.uint8),
                              data_sample=result, draw_gt=False,
                              pred_score_thr=threshold)
    assert np.array_equal(drawn, visualizer.get_image())

    palette = model.dataset_meta['palette']
    shown, hidden = pred[:3], pred[3:]
    for box, label in zip(shown.bboxes, shown.labels):
        edges = box_edges(box, drawn.shape)
        assert colour_share(drawn, under, edges, palette[label]) > 0.5
    near_shown = np.any([box_edges(box, drawn.shape, margin=4)
                         for box in shown.bboxes], axis=0)
    box, label = hidden.bboxes[0], hidden.labels[0]
    apart = box_edges(box, drawn.shape) & ~near_shown
    assert apart.sum() > 40
    assert colour_share(drawn, under, apart, palette[label]) < 0.2


@pytest.mark.slow
def test_make_demo_trains_evaluates_and_draws(tmp_path):
    """What `make demo` runs (tools/demo_synthetic.py), for one epoch on a
    few images: it trains, prints the mAP its test run wrote, and draws
    the detections; none of its tools prints a warning of the stack
    (tools/known_warnings.py, and the drawing builds no storage
    backend)."""
    data = tmp_path / 'data'
    write_detection_set(str(data / 'det'), num_train=16, num_val=2)
    (data / 'det' / '.complete').touch()  # a complete set: not rewritten
    result = run_tool(
        'tools/demo_synthetic.py', '--work-dir', str(tmp_path / 'work'),
        '--out-dir', str(tmp_path / 'vis'), '--data-root', str(data),
        '--epochs', '1', '--num-images', '1', '--score-thr', '0.1')
    assert result.stderr == ''
    out = result.stdout
    printed = re.search(
        r'COCO bbox mAP on the synthetic validation split: ([\d.]+) '
        r'\(mAP@0.5 ([\d.]+)\), checkpoint (\S+), results (\S+)\n', out)
    assert printed, out
    map_, map_50, checkpoint, results = printed.groups()
    assert checkpoint == str(tmp_path / 'work' / 'epoch_1.pth')
    assert results.startswith(str(tmp_path / 'work' / 'test'))
    with open(results) as f:
        metrics = json.load(f)
    assert map_ == f'{metrics["coco/bbox_mAP"]:.3f}'
    assert map_50 == f'{metrics["coco/bbox_mAP_50"]:.3f}'
    drawn_path = str(tmp_path / 'vis' / 'val_00000.png')
    assert f'detections drawn: {drawn_path}\n' in out
    drawn = np.asarray(Image.open(drawn_path).convert('RGB')).astype(int)
    original = np.asarray(Image.open(
        data / 'det' / 'val' / 'val_00000.jpg').convert('RGB'))
    assert drawn.shape == original.shape
    assert (np.abs(drawn - original).max(-1) > 60).mean() > 0.02  # boxes


@pytest.mark.slow
def test_corrupt_image_is_named(trained, det_root, tmp_path):
    cfg_path, checkpoint = trained
    root = str(tmp_path / 'broken')
    shutil.copytree(det_root, root)
    broken = os.path.join(root, 'val', 'val_00002.jpg')
    with open(broken, 'wb') as f:
        f.write(b'\xff\xd8 truncated')
    result = run_tool(
        'tools/test.py', cfg_path, checkpoint, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        f'test_dataloader.dataset.data_root={root}', check=False)
    assert result.returncode != 0
    assert f'Cannot read image {broken}' in result.stderr
    assert 'Traceback' not in result.stderr


@pytest.mark.parametrize('config,hint', [
    ('ssdlite_edgenext_small_coco.py', 'cocodataset.org'),
    ('ssdlite_edgenext_small_voc.py', 'VOCtrainval_11-May-2012'),
])
@pytest.mark.slow
def test_missing_data_says_where_and_how(config, hint, tmp_path):
    result = run_tool('tools/train.py', f'configs/{config}', '--work-dir',
                      str(tmp_path), check=False)
    assert result.returncode != 0
    assert 'does not exist' in result.stderr and hint in result.stderr
    assert 'Traceback' not in result.stderr


class _Interrupt(Exception):
    pass


@pytest.mark.slow
def test_interrupted_run_resumes_with_same_counter_and_schedule(
        det_root, tmp_path):
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS
    from mmengine.runner import Runner

    from mmedgenext.utils import apply_train_args

    @HOOKS.register_module(force=True)
    class InterruptAfterTwo(Hook):
        priority = 'LOWEST'  # after the checkpoint hook has saved

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            if runner.iter + 1 == 2:
                raise _Interrupt

    def cfg(work_dir):
        c = det_small_cfg(det_root, work_dir, 4, batch_size=2)
        c.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False,
                                  begin=0, end=4, eta_min=1e-5)]
        c.default_hooks.checkpoint.interval = 2
        return c

    full = Runner.from_cfg(cfg(tmp_path / 'full'))
    full.train()
    interrupted = cfg(tmp_path / 'run')
    interrupted.custom_hooks = [dict(type='InterruptAfterTwo')]
    with pytest.raises(_Interrupt):
        Runner.from_cfg(interrupted).train()
    resumed = apply_train_args(cfg(tmp_path / 'run'), SYNTHETIC,
                               work_dir=str(tmp_path / 'run'), resume='auto')
    runner = Runner.from_cfg(resumed)
    runner.train()
    assert runner.iter == full.iter == 4
    lr = runner.optim_wrapper.get_lr()['lr'][0]
    assert lr == pytest.approx(full.optim_wrapper.get_lr()['lr'][0])
    assert os.path.isfile(tmp_path / 'run' / 'iter_4.pth')


@pytest.mark.slow
def test_two_process_ddp_training_on_cpu(det_root, tmp_path):
    """tools/dist_train.sh: torchrun, 2 processes, gloo."""
    cfg = det_small_cfg(det_root, tmp_path / 'work', 3, batch_size=2)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg_path = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_path))
    with socket.socket() as free:  # a fixed port may still be taken
        free.bind(('127.0.0.1', 0))
        port = str(free.getsockname()[1])
    env = dict(os.environ, PYTHON=sys.executable, PORT=port,
               OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(cfg_path), '2', '--work-dir',
         str(tmp_path / 'work')], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    log = open(glob.glob(str(tmp_path / 'work' / '*' / '*.log'))[0]).read()
    assert 'Distributed training: True' in log
    assert "type='MMDistributedDataParallel'" in log
    assert os.path.isfile(tmp_path / 'work' / 'iter_3.pth')
