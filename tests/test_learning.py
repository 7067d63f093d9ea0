"""Each task's model, trained from scratch for a short seeded schedule on a
few synthetic images, scores far above chance on those images by the
stock metric in the Runner's val loop: it learns, and what it learnt comes
out through prediction, decoding and evaluation. The schedules overfit on
purpose (tiny images, no augmentation, the lr annealed to 0)."""
import os

import pytest
import torch
from helpers import (cfg_path, cls_small_cfg, one_class_miou,
                     overfit_schedule, train_and_validate)
from mmengine.config import Config

from mmedgenext.synthetic_data import (write_classification_set,
                                       write_detection_set)


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


def coco_on_training_images(cfg, root):
    """The val loop and COCO metric on the training split."""
    cfg.val_dataloader.dataset.update(
        data_root=root, ann_file='annotations/instances_train.json',
        data_prefix=dict(img='train/'))
    cfg.val_evaluator.ann_file = os.path.join(
        root, 'annotations', 'instances_train.json')


@pytest.mark.slow
def test_ssdlite_edgenext_learns_to_detect(trained_detector):
    """SSDLite-EdgeNeXt-XXS (the synthetic config) at 128 px, anchors scaled
    with the image (helpers.detector_recipe, the model the deploy tests
    export). A detector guessing boxes scores about 0 mAP."""
    metrics = trained_detector['metrics']
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
def test_deeplabv3_edgenext_learns_to_segment(trained_segmentor):
    """DeepLabv3-EdgeNeXt-XXS (the synthetic config) on 4 images of 64 px
    (helpers.segmentor_recipe, the model the deploy tests export): mIoU far
    above that of labelling every pixel with the majority class
    (background), computed from the label maps."""
    majority = one_class_miou(trained_segmentor['root'], 0, split='train')
    assert 10 < majority < 25
    assert trained_segmentor['metrics']['mIoU'] >= 3 * majority


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
