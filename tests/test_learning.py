"""Each task's model, trained from scratch for a short seeded schedule on a
few synthetic images, scores far above chance on those images by the
stock metric in the Runner's val loop: it learns, and what it learnt comes
out through prediction, decoding and evaluation. The schedules overfit on
purpose (tiny images, no augmentation, the lr annealed to 0)."""
import os

import pytest
import torch
from helpers import (cfg_path, cls_small_cfg, det_small_cfg, one_class_miou,
                     overfit_schedule, seg_small_cfg)
from mmengine.config import Config

from mmedgenext.synthetic_data import (write_classification_set,
                                       write_detection_set,
                                       write_segmentation_set)


@pytest.fixture(autouse=True)
def restore_determinism():
    """``randomness.deterministic`` switches deterministic algorithms on
    for the whole process; leave the other tests as they were."""
    yield
    torch.use_deterministic_algorithms(False)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    """4 scenes of 320 px with 1-6 shapes each, 3 classes."""
    root = str(tmp_path_factory.mktemp('det'))
    write_detection_set(root, num_train=4, num_val=0)
    return root


def train_and_validate(cfg):
    """The metrics of the val loop that ends the training run."""
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    runner.train()
    hub = runner.message_hub
    return {key[4:]: hub.get_scalar(key).current()
            for key in hub.log_scalars if key.startswith('val/')}


def coco_on_training_images(cfg, root):
    """The val loop and COCO metric on the training split."""
    cfg.val_dataloader.dataset.update(
        data_root=root, ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'))
    cfg.val_evaluator.ann_file = os.path.join(
        root, 'annotations', 'instances_train.json')


@pytest.mark.slow
def test_ssdlite_edgenext_learns_to_detect(det_root, tmp_path):
    """SSDLite-EdgeNeXt-XXS (the synthetic config) at 128 px, anchors scaled
    with the image. A detector guessing boxes scores about 0 mAP.

    The neck's and head's BatchNorm momentum goes from the config's 0.03
    (mmdet's SSDLite) to PyTorch's 0.1: at 0.03 the running statistics of
    a run this short still mix in earlier weights' activations (after 100
    iterations at 192 px the eval-mode model scored mAP 0.39, the same
    weights with batch statistics 1.0)."""
    size = 128
    cfg = det_small_cfg(det_root, tmp_path, 60, batch_size=4)
    overfit_schedule(cfg, 60, lr=3e-3)
    coco_on_training_images(cfg, det_root)
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
    metrics = train_and_validate(cfg)
    assert metrics['coco/bbox_mAP'] >= 0.5
    assert metrics['coco/bbox_mAP_50'] >= 0.9


@pytest.mark.slow
def test_ssdlite_edgeformer_learns_to_detect(det_root, tmp_path):
    """ml-cvnets' SSDLite on EdgeFormer-S (the COCO config, 3 classes, no
    augmentation) at 64 px. The levels from stride 64 on are 1x1 maps,
    whose BatchNorm statistics come from the batch's 4 values; the running
    variance is the unbiased one, 4/3 of the batch's, and boxes lose
    precision in eval mode (mAP 0.48 where the same weights score 0.92
    with batch statistics, 0.91 with that factor taken out), hence bounds
    lower than the EdgeNeXt detector's."""
    size = 64
    cfg = Config.fromfile(cfg_path('ssdlite_edgeformer_s_coco.py'))
    cfg.work_dir = str(tmp_path)
    cfg.model.backbone.init_cfg = None
    cfg.model.bbox_head.num_classes = 3
    metainfo = dict(classes=('circle', 'square', 'triangle'))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset.metainfo = metainfo
    cfg.train_dataloader.dataset.update(
        data_root=det_root, ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'), pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='Resize', scale=(size, size), keep_ratio=False),
            dict(type='PackDetInputs')])
    for step in cfg.val_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (size, size)
    coco_on_training_images(cfg, det_root)
    overfit_schedule(cfg, 80, lr=6e-3)
    metrics = train_and_validate(cfg)
    assert metrics['coco/bbox_mAP'] >= 0.35
    assert metrics['coco/bbox_mAP_50'] >= 0.75


@pytest.mark.slow
def test_deeplabv3_edgenext_learns_to_segment(tmp_path):
    """DeepLabv3-EdgeNeXt-XXS (the synthetic config) on 4 images of 64 px:
    mIoU far above that of labelling every pixel with the majority class
    (background), computed from the label maps."""
    root = str(tmp_path / 'seg')
    write_segmentation_set(root, num_train=4, num_val=0, size=64)
    cfg = seg_small_cfg(root, tmp_path / 'work', 60)
    overfit_schedule(cfg, 60, lr=2e-3)
    cfg.train_dataloader.dataset.pipeline = [
        step for step in cfg.train_dataloader.dataset.pipeline
        if step['type'] not in ('RandomResize', 'RandomCrop', 'RandomFlip')]
    cfg.val_dataloader.dataset.ann_file = 'ImageSets/Segmentation/train.txt'
    metrics = train_and_validate(cfg)
    majority = one_class_miou(root, 0, split='train')
    assert 10 < majority < 25
    assert metrics['mIoU'] >= 3 * majority


@pytest.mark.slow
def test_edgenext_classifier_learns_to_classify(tmp_path):
    """EdgeNeXt-XXS (the synthetic classification config) on 12 images of
    64 px, 4 per class: top-1 far above chance (1/3)."""
    root = str(tmp_path / 'cls')
    write_classification_set(root, per_class_train=4, per_class_val=0,
                             size=64)
    cfg = cls_small_cfg(root, tmp_path / 'work', 100, batch_size=4)
    overfit_schedule(cfg, 100, lr=2e-3)
    metrics = train_and_validate(cfg)
    assert metrics['accuracy/top1'] >= 90
