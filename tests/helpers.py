"""Helpers shared by the test modules (conftest.py keeps the fixtures)."""
import argparse
import functools
import math
import os
import subprocess
import sys

import numpy as np
import torch
import yaml
from fixtures.seeded_weights import checksums, seeded_images, seeded_state_dict
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The released variants, as the authors' fixtures name them
# (tests/fixtures/edgenext_official/, made by make_edgenext_official.py).
OFFICIAL_VARIANTS = ('xx_small', 'x_small', 'small', 'base',
                     'xx_small_bn_hs', 'x_small_bn_hs', 'small_bn_hs')


# Where the configs' parameters and MAdds are listed: the two model-index
# files (what `mim search` lists) and the configs on local data.
METAFILES = ('configs/metafile.yml', 'configs/examples/metafile.yml',
             'configs/metafile-local.yml')


def listed_sizes():
    """{config path: (params, madds, input size)} from the metafiles; a
    config listed twice (two released files of one config) lists one
    size."""
    sizes = {}
    for name in METAFILES:
        with open(os.path.join(ROOT, name)) as f:
            for model in yaml.safe_load(f)['Models']:
                meta = model['Metadata']
                size = (meta['Parameters'], meta['FLOPs'],
                        meta['Input Size'])
                assert sizes.setdefault(model['Config'], size) == size, \
                    model['Name']
    return sizes


def cfg_path(name):
    """The path of ``configs/<name>``."""
    return os.path.join(ROOT, 'configs', name)


def randomize_(model, seed=0):
    """Give every parameter and BN statistic a non-trivial random value, so
    layer scales of 1e-6 cannot hide a wrong block."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            noise = torch.randn(t.shape, generator=g)
            if name.endswith('running_var'):
                t.copy_(noise.abs() + 0.5)
            elif name.endswith(('gamma', 'gamma_xca')) or (
                    t.dim() == 1 and name.endswith('weight')):
                t.copy_(1 + 0.3 * noise)  # layer scales and norm weights
            else:
                fan_in = t[0].numel() if t.dim() > 1 else 1
                t.copy_(noise * (0.2 if t.dim() == 1 else fan_in**-0.5))
    return model


def official_fixture(arch):
    """What the authors' ``edgenext_<arch>`` computed (see
    tests/fixtures/make_edgenext_official.py): their key layout, the seeds
    of the weights and input, their outputs."""
    return _load_fixture(os.path.join('edgenext_official', f'{arch}.pt'))


@functools.lru_cache(maxsize=None)
def _load_fixture(name):
    return torch.load(os.path.join(ROOT, 'tests', 'fixtures', name),
                      weights_only=True)


def official_weights(arch, seed=None):
    """Weights in the authors' layout for ``arch``: by default those their
    model ran with in the fixture (checked against its checksums), else
    other seeded values for the same keys."""
    weights = _official_weights(arch, seed)
    return {k: v.clone() for k, v in weights.items()}


@functools.lru_cache(maxsize=None)
def _official_weights(arch, seed):
    fixture = official_fixture(arch)
    if seed is not None:
        return seeded_state_dict(fixture['layout'], seed)
    weights = seeded_state_dict(fixture['layout'], fixture['weight_seed'])
    for key, sums in checksums(weights).items():
        recorded = fixture['checksums'][key]
        assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
                   for a, b in zip(sums, recorded)), key
    return weights


def official_input(arch):
    """The batch the authors' model ran on in the fixture."""
    spec = official_fixture(arch)['input']
    return seeded_images(spec['shape'], spec['seed'])


def save_official(tmp_path, arch, state_dict=None, **extra):
    """An official release file: weights under 'model' beside the training
    args (an argparse.Namespace), as the authors' checkpoints are stored.
    The weights are ``official_weights(arch)`` unless given."""
    sd = official_weights(arch) if state_dict is None else state_dict
    path = tmp_path / f'edgenext_{arch}.pth'
    torch.save(dict(model=sd, epoch=299,
                    args=argparse.Namespace(model=f'edgenext_{arch}',
                                            lr=6e-3), **extra), path)
    return sd, str(path)


class RunsCode:
    """A pickle payload that would create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker, ))


def train_and_validate(cfg):
    """Train ``cfg`` with the Runner; the metrics of the val loop that ends
    the run. Deterministic algorithms (``randomness.deterministic``) are
    switched off again for the rest of the process."""
    from mmengine.runner import Runner
    try:
        runner = Runner.from_cfg(cfg)
        runner.train()
    finally:
        torch.use_deterministic_algorithms(False)
    hub = runner.message_hub
    return {key[4:]: float(hub.get_scalar(key).current())
            for key in hub.log_scalars if key.startswith('val/')}


def _run_root(tmp_path_factory):
    """The folder this test run's processes share: the xdist workers'
    common parent, or the one process's base."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base


def train_once(tmp_path_factory, name, recipe):
    """``recipe(folder)``'s config (data written under ``folder``) trained
    once per test run and shared by every test and xdist worker that asks
    (a file lock: the first trains, the others wait and read): a dict of
    the dumped ``config``, the last ``checkpoint``, the val ``metrics`` at
    the end of training and the data ``root``. One recipe per ``name``:
    a second recipe under the same name is refused."""
    import json

    from filelock import FileLock
    folder = _run_root(tmp_path_factory) / f'trained-{name}'
    folder.mkdir(exist_ok=True)
    record = folder / 'trained.json'
    with FileLock(str(folder) + '.lock'):
        cfg = recipe(folder)
        if not record.exists():
            metrics = train_and_validate(cfg)
            cfg.dump(str(folder / 'cfg.py'))
            record.write_text(json.dumps(dict(
                config=str(folder / 'cfg.py'), checkpoint=os.path.join(
                    cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth'),
                metrics=metrics, root=str(folder / 'data'),
                recipe=cfg.pretty_text)))
        trained = json.loads(record.read_text())
    assert trained.pop('recipe') == cfg.pretty_text, f'two recipes: {name}'
    return trained


def _save_at_the_end(cfg, iters):
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        by_epoch=False, interval=iters)


def segmentor_recipe(folder, iters=200):
    """DeepLabv3-EdgeNeXt-XXS (the synthetic config: BN/Hardswish) trained
    from scratch on four 64-px synthetic images and tested on them (their
    test pipeline keeps each image's size): seeded, no augmentation, the lr
    annealed to 0 (see overfit_schedule)."""
    from mmedgenext.synthetic_data import write_segmentation_set
    root = str(folder / 'data')
    if not os.path.isdir(root):
        write_segmentation_set(root, num_train=4, num_val=0, size=64)
    cfg = overfit_schedule(seg_small_cfg(root, folder / 'work', iters),
                           iters, lr=2e-3)
    _save_at_the_end(cfg, iters)
    cfg.train_dataloader.dataset.pipeline = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] not in ('RandomResize', 'RandomCrop', 'RandomFlip')]
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.ann_file = 'ImageSets/Segmentation/train.txt'
    return cfg


def detector_recipe(folder, iters=60, size=128):
    """SSDLite-EdgeNeXt-XXS (the synthetic config) trained from scratch on
    four synthetic scenes resized to ``size`` px, anchors scaled with the
    image, and tested on them: seeded, no augmentation, the lr annealed to
    0 (see overfit_schedule).

    The neck's and head's BatchNorm momentum goes from the config's 0.03
    (mmdet's SSDLite) to PyTorch's 0.1: at 0.03 the running statistics of
    a run this short still mix in earlier weights' activations (after 100
    iterations at 192 px the eval-mode model scored mAP 0.39, the same
    weights with batch statistics 1.0)."""
    from mmedgenext.synthetic_data import write_detection_set
    root = str(folder / 'data')
    if not os.path.isdir(root):
        write_detection_set(root, num_train=4, num_val=0)
    cfg = overfit_schedule(det_small_cfg(root, folder / 'work', iters),
                           iters, lr=3e-3)
    _save_at_the_end(cfg, iters)
    cfg.val_dataloader.dataset.update(
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'))
    cfg.val_evaluator.ann_file = os.path.join(
        root, 'annotations', 'instances_train.json')
    scale = size / cfg.input_size
    anchors = cfg.model.bbox_head.anchor_generator
    anchors.min_sizes = [round(s * scale) for s in anchors.min_sizes]
    anchors.max_sizes = [round(s * scale) for s in anchors.max_sizes]
    for part in (cfg.model.neck, cfg.model.bbox_head):
        part.norm_cfg = dict(part.norm_cfg, momentum=0.1)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        pipeline = loader.dataset.pipeline
        for step in pipeline:
            if step['type'] == 'Resize':
                step['scale'] = (size, size)
        loader.dataset.pipeline = [
            step for step in pipeline if step['type'] != 'RandomFlip']
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator
    return cfg


def train_briefly(cfg, work):
    """Train ``cfg`` (a short iteration-based run) and dump it into
    ``work``; return the config file and the last checkpoint, what the
    tools take."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    cfg.dump(str(work / 'cfg.py'))
    return str(work / 'cfg.py'), os.path.join(cfg.work_dir,
                                              f'iter_{runner.iter}.pth')


def edgeformer_reference(task):
    """What the EdgeFormer authors' own ``task`` model computed on seeded
    weights (tests/fixtures/make_edgeformer_reference.py)."""
    return torch.load(
        os.path.join(ROOT, 'tests', 'fixtures', 'edgeformer_reference',
                     f'{task}.pt'), weights_only=True)


def authors_state_dict(reference):
    """The state dict the authors' model of ``reference`` ran with, as
    their ``state_dict()`` saves it (bare, their key names; keys that name
    one tensor twice hold one value), checked against the recorded
    checksums."""
    state = seeded_state_dict(reference['layout'], reference['weight_seed'])
    for key, owner in reference['shared'].items():
        state[key] = state[owner].clone()
    sums = checksums(state)
    assert list(sums) == list(reference['checksums'])
    ours, theirs = (np.array(list(d.values())) for d in
                    (sums, reference['checksums']))
    bad = ~np.isclose(ours, theirs, rtol=1e-9, atol=1e-9).all(1)
    assert not bad.any(), np.array(list(sums))[bad][:5]
    return state


def assert_close_to_range(out, ref, rel=1e-4):
    """Largest error at most ``rel`` of the reference output's range."""
    err = (out - ref).abs().max().item()
    assert err <= rel * (ref.max() - ref.min()).item(), err


def assert_same_detections(ours, theirs, box_tol=320 * 1e-4):
    """Equal as sets per class: random weights give exact score ties, which
    NMS may list in either order."""
    (b1, s1, l1), (b2, s2, l2) = ours, theirs
    assert torch.equal(l1.sort().values, l2.sort().values)
    for c in l1.unique():
        m1, m2 = l1 == c, l2 == c
        same = ((s1[m1, None] - s2[None, m2]).abs() <= 1e-5) & (
            (b1[m1, None] - b2[None, m2]).abs().amax(-1) <= box_tol)
        assert same.any(1).all() and same.any(0).all(), int(c)


def _short_iteration_schedule(cfg, iters):
    """``iters`` iterations at a constant lr, validated and saved once at
    the end, logged every iteration."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters)
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        by_epoch=False, interval=iters)


def overfit_schedule(cfg, iters, lr):
    """Seeded (deterministic algorithms on), ``iters`` iterations drawn
    without epoch ends (mmengine pauses 2 s at each), the lr annealed from
    ``lr`` to 0 (a constant one leaves BatchNorm statistics trailing the
    weights), validated once at the end, nothing saved."""
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.optim_wrapper.optimizer.lr = lr
    cfg.param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=False,
                                begin=0, end=iters, eta_min=0)]
    cfg.custom_hooks = []  # no EMA: evaluate the trained weights
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10
    cfg.log_processor = dict(by_epoch=False)
    cfg.randomness = dict(seed=0, deterministic=True)
    return cfg


def det_small_cfg(det_root, work_dir, iters, batch_size=4):
    """The synthetic SSDLite config on a tiny set, ``iters`` iterations."""
    from mmengine.config import Config
    cfg = Config.fromfile(cfg_path('ssdlite_edgenext_xx_small_synthetic.py'))
    cfg.work_dir = str(work_dir)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.dataset.data_root = det_root
        loader.update(num_workers=0, persistent_workers=False,
                      batch_size=batch_size)
    cfg.val_evaluator.ann_file = os.path.join(
        det_root, 'annotations', 'instances_val.json')
    cfg.test_evaluator = cfg.val_evaluator
    _short_iteration_schedule(cfg, iters)
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def cls_small_cfg(cls_root, work_dir, iters, batch_size):
    """The synthetic classification config on a tiny folder set at its own
    image size, no augmentation, ``iters`` iterations at a constant lr,
    validated on the training images once at the end."""
    from mmengine.config import Config
    cfg = Config.fromfile(cfg_path('edgenext_xx_small_synthetic_cls.py'))
    cfg.work_dir = str(work_dir)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.update(data_root=cls_root, data_prefix='train',
                              pipeline=pipeline)
        loader.update(batch_size=batch_size)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.test_dataloader = cfg.val_dataloader
    _short_iteration_schedule(cfg, iters)
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def seg_small_cfg(seg_root, work_dir, iters):
    """The synthetic DeepLabv3 config on a tiny 64-px set, ``iters``
    iterations."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        cfg_path('deeplabv3_edgenext_xx_small_synthetic.py'))
    cfg.work_dir = str(work_dir)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        loader.dataset.data_root = seg_root
        loader.update(num_workers=0, persistent_workers=False, batch_size=4)
    cfg.crop_size = (64, 64)
    cfg.model.data_preprocessor.size = (64, 64)
    for t in cfg.train_dataloader.dataset.pipeline:
        if t['type'] == 'RandomResize':
            t['scale'] = (64, 64)
        if t['type'] == 'RandomCrop':
            t['crop_size'] = (64, 64)
    _short_iteration_schedule(cfg, iters)
    return cfg


def one_class_miou(seg_root, k, num_classes=4, split='val'):
    """The mIoU (%) of class ``k`` predicted everywhere, from the ``split``
    label maps: IoU of ``k`` its share of the labelled pixels, 0 for the
    other classes present, absent classes left out of the mean."""
    names = open(os.path.join(
        seg_root, f'ImageSets/Segmentation/{split}.txt')).read().split()
    labels = np.concatenate([np.array(Image.open(os.path.join(
        seg_root, 'SegmentationClass', name + '.png'))).ravel()
        for name in names])
    labels = labels[labels != 255]
    counts = np.bincount(labels, minlength=num_classes)
    present = (counts > 0) | (np.arange(num_classes) == k)
    return 100 * counts[k] / labels.size / present.sum()


def det_batch(size, masks=False):
    """A seeded mmdet batch: two random square images of ``size`` px with
    two labelled boxes each (and their masks)."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    boxes = torch.tensor([[10., 12., 60., 70.], [40., 30., 90., 80.]]
                         ) * size / 128
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 255, (3, size, size),
                                    dtype=torch.uint8, generator=g))
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size), scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(bboxes=boxes,
                                           labels=torch.tensor([0, 1]))
        if masks:
            bitmaps = np.zeros((2, size, size), np.uint8)
            for bitmap, (x1, y1, x2, y2) in zip(bitmaps, boxes.int()):
                bitmap[y1:y2, x1:x2] = 1
            sample.gt_instances.masks = BitmapMasks(bitmaps, size, size)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def seg_batch(num_classes, size=64):
    """A seeded mmseg batch: two random images of ``size`` px with random
    label maps."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 255, (3, size, size),
                                    dtype=torch.uint8, generator=g))
        sample = SegDataSample(metainfo=dict(img_shape=(size, size),
                                             ori_shape=(size, size),
                                             pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(
            0, num_classes, (1, size, size), generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def cls_batch(num_classes, size=64):
    """A seeded mmpretrain batch: two random images of ``size`` px and
    their labels."""
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (3, size, size), dtype=torch.uint8,
                            generator=g) for _ in range(2)]
    samples = [DataSample().set_gt_label(k % num_classes) for k in range(2)]
    return dict(inputs=inputs, data_samples=samples)


def plugin_type_cfgs(cfg):
    """``{'X': (key, type_cfg)}``: the first ``type='mmedgenext.X'`` dict
    under each top-level ``key`` of a config (``model``, pipelines...)."""
    found = {}

    def walk(key, value):
        if isinstance(value, dict):
            kind = value.get('type')
            if isinstance(kind, str) and kind.startswith('mmedgenext.'):
                found.setdefault(kind.split('.', 1)[1], (key, value))
            values = value.values()
        elif isinstance(value, (list, tuple)):
            values = value
        else:
            return
        for item in values:
            walk(key, item)

    for key, value in cfg.items():
        walk(key, value)
    return found


def optimized_op_types(path, tmp_path):
    """Node types of the graph ONNX Runtime runs for ``path``, after its
    fusions."""
    import collections

    import onnx

    from mmedgenext.deploy import load_runtime
    optimized = tmp_path / 'optimized.onnx'
    load_runtime(path, optimized_path=optimized)
    return collections.Counter(n.op_type
                               for n in onnx.load(str(optimized)).graph.node)


def run_in_process(tool, *args):
    """``python tools/<tool> ARGS`` run in this process (the tool's
    ``__main__``, without an interpreter's start-up and its ~9 s of
    imports); what it printed to stdout. SystemExit as the tool exits,
    carrying that output as ``stdout``."""
    import contextlib
    import io
    import runpy
    argv, out = sys.argv, io.StringIO()
    sys.argv = [tool, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(os.path.join(ROOT, 'tools', tool),
                           run_name='__main__')
    except SystemExit as e:
        e.stdout = out.getvalue()
        raise
    finally:
        sys.argv = argv
    return out.getvalue()


def run_tool(*args, timeout=600):
    """``python tools/...`` as a user runs it from the repository root,
    with this checkout's package first on the path; the finished process
    (text output). One PyTorch thread (OMP_NUM_THREADS=1): on a shared
    2-core machine a second one waits at every barrier for a descheduled
    partner, ten times slower at these tiny sizes."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get('PYTHONPATH')) if p))
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True,
                          timeout=timeout)
