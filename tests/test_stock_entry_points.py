"""The plugin in a user's OpenMMLab world: the stock inferencers and the
train/test tools that mmdet, mmseg and mmpretrain ship run the project's
configs, and configs written on the stock bases (configs/examples/) load
EdgeNeXt weights with every init idiom, train and evaluate."""
import glob
import importlib
import os
import subprocess
import sys

import pytest
import torch
from helpers import (ROOT, det_small_cfg, randomize_, save_official,
                     seg_small_cfg, train_briefly)
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS, init_default_scope
from mmengine.runner import Runner

from mmedgenext.synthetic_data import (CLASSES, write_classification_set,
                                       write_detection_set,
                                       write_segmentation_set)

EXAMPLES = os.path.join(ROOT, 'configs', 'examples')


def config(name):
    return os.path.join(ROOT, 'configs', name)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('det'))
    write_detection_set(root, num_train=4, num_val=2)
    return root


@pytest.fixture(scope='module')
def seg_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('seg'))
    write_segmentation_set(root, num_train=4, num_val=2, size=64)
    return root


@pytest.fixture(scope='module')
def cls_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('cls'))
    write_classification_set(root, per_class_train=2, per_class_val=1,
                             size=64)
    return root


def short_schedule(cfg, work_dir, iters=2):
    """``iters`` training iterations, then one validation; loaders without
    workers, one checkpoint at the end."""
    cfg.work_dir = str(work_dir)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters)
    cfg.param_scheduler = []
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=iters)
    cfg.log_processor = dict(by_epoch=False)
    cfg.pop('auto_scale_lr', None)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(batch_size=2, num_workers=0, persistent_workers=False)
        if name == 'train_dataloader':
            cfg[name].sampler = dict(type='InfiniteSampler', shuffle=True)
    return cfg


def _set_transforms(pipeline, **updates):
    """Update every transform of a type: ``Resize=dict(scale=...)``."""
    for t in pipeline:
        t.update(updates.get(t['type'], {}))


def on_synthetic_coco(cfg, root, size=(160, 160)):
    """A COCO detection config on the synthetic set (3 classes), small
    images and few proposals for speed, every score kept so that the
    metric has detections to score after two iterations."""
    metainfo = dict(classes=CLASSES)
    for name, split in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        dataset = cfg[name].dataset
        dataset.update(data_root=root, metainfo=metainfo,
                       ann_file=f'annotations/instances_{split}.json',
                       data_prefix=dict(img=f'{split}/'))
        _set_transforms(dataset.pipeline, Resize=dict(scale=size))
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = os.path.join(root, 'annotations',
                                          'instances_val.json')
    model = cfg.model
    for head in (model.get('bbox_head'), model.get('roi_head', {}).get(
            'bbox_head'), model.get('roi_head', {}).get('mask_head')):
        if head:
            head.num_classes = len(CLASSES)
    if 'rpn' in model.test_cfg:  # two-stage
        model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
        model.train_cfg.rcnn.sampler.num = 64
        model.test_cfg.rpn.update(nms_pre=200, max_per_img=100)
        model.test_cfg.rcnn.update(score_thr=0., max_per_img=20)
    else:
        model.test_cfg.update(score_thr=0., max_per_img=20)
    return cfg


def on_synthetic_seg(cfg, root, crop=(64, 64)):
    """An ADE20K segmentation config on the synthetic VOC-layout set
    (background 0 ignored through ``reduce_zero_label``, as ADE20K)."""
    for name, split in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        dataset = cfg[name].dataset
        dataset.update(
            type='BaseSegDataset', data_root=root, reduce_zero_label=True,
            metainfo=dict(classes=CLASSES, palette=[[128, 0, 0]] * 3),
            img_suffix='.jpg', seg_map_suffix='.png',
            ann_file=f'ImageSets/Segmentation/{split}.txt',
            data_prefix=dict(img_path='JPEGImages',
                             seg_map_path='SegmentationClass'))
        _set_transforms(dataset.pipeline, RandomResize=dict(scale=crop),
                        RandomCrop=dict(crop_size=crop),
                        Resize=dict(scale=crop))
    cfg.model.data_preprocessor.size = crop
    for head in (cfg.model.decode_head, cfg.model.get('auxiliary_head')):
        if head:
            head.num_classes = len(CLASSES)
    return cfg


class _CheckBackboneWeights(Hook):
    """Before the first iteration: the backbone holds the checkpoint's
    weights, given as ``expected`` (plugin key -> tensor)."""

    expected = None

    def before_train(self, runner):
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        own = model.backbone.state_dict()
        for key, value in self.expected.items():
            torch.testing.assert_close(own[key], value, rtol=0, atol=0)
        type(self).checked = True


HOOKS.register_module(module=_CheckBackboneWeights, force=True)


def official_backbone_weights(sd):
    """The plugin's keys for an official file's backbone tensors."""
    return {('norm3.' + k[5:] if k.startswith('norm.') else k): v
            for k, v in sd.items() if not k.startswith('head.')}


@pytest.fixture(scope='module')
def official_small(tmp_path_factory):
    return save_official(tmp_path_factory.mktemp('official'), 'small')


@pytest.fixture(scope='module')
def mmpretrain_small(tmp_path_factory):
    """An mmpretrain ImageClassifier checkpoint with mmpretrain's own
    EdgeNeXt-S (its key names), as the Runner saves it; and that backbone,
    returning its last normalised map."""
    from mmpretrain.models import ImageClassifier
    init_default_scope('mmpretrain')
    classifier = ImageClassifier(
        backbone=dict(type='EdgeNeXt', arch='small',
                      gap_before_final_norm=True),
        head=dict(type='LinearClsHead', num_classes=1000, in_channels=304))
    randomize_(classifier)
    path = tmp_path_factory.mktemp('mmpretrain') / 'edgenext_small_cls.pth'
    torch.save(dict(state_dict=classifier.state_dict(),
                    meta=dict(mmpretrain_version='1.2.0')), path)
    from mmpretrain.models import EdgeNeXt
    maps = EdgeNeXt(arch='small', gap_before_final_norm=False)
    maps.load_state_dict(classifier.backbone.state_dict())
    maps.eval()
    return str(path), maps


def run_example(name, cfg, tmp_path, expected):
    _CheckBackboneWeights.expected, _CheckBackboneWeights.checked = (
        expected, False)
    cfg.custom_hooks = [dict(type='_CheckBackboneWeights')]
    runner = Runner.from_cfg(short_schedule(cfg, tmp_path / name))
    runner.train()
    assert _CheckBackboneWeights.checked
    return runner.val_loop.run()


@pytest.mark.parametrize('name,metrics', [
    ('retinanet_edgenext_small_fpn_1x_coco.py', {'coco/bbox_mAP'}),
    ('atss_edgenext_small_fpn_1x_coco.py', {'coco/bbox_mAP'}),
    ('mask-rcnn_edgenext_small_fpn_1x_coco.py',
     {'coco/bbox_mAP', 'coco/segm_mAP'}),
])
@pytest.mark.slow
def test_detector_examples_load_official_weights_train_and_evaluate(
        name, metrics, det_root, official_small, tmp_path):
    sd, path = official_small
    cfg = on_synthetic_coco(Config.fromfile(os.path.join(EXAMPLES, name)),
                            det_root)
    init_cfg = cfg.model.backbone.init_cfg
    pretrained = init_cfg[-1] if isinstance(init_cfg, list) else init_cfg
    assert pretrained.checkpoint == 'edgenext_small'  # the model-zoo file
    pretrained.checkpoint = path
    results = run_example(name, cfg, tmp_path, official_backbone_weights(sd))
    assert metrics <= set(results)


@pytest.mark.slow
def test_faster_rcnn_example_takes_an_mmpretrain_classifier_by_prefix(
        det_root, mmpretrain_small, tmp_path):
    path, backbone = mmpretrain_small
    name = 'faster-rcnn_edgenext_small_fpn_1x_coco.py'
    cfg = on_synthetic_coco(Config.fromfile(os.path.join(EXAMPLES, name)),
                            det_root)
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'
    cfg.model.backbone.init_cfg.checkpoint = path
    # Same weights, same features: mmpretrain's backbone is the reference.
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    ours = MODELS.build(cfg.model.backbone)
    ours.init_weights()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            ours.eval()(x)[3], backbone(x)[0], atol=1e-4,
            rtol=0)
    results = run_example(name, cfg, tmp_path, ours.state_dict())
    assert 'coco/bbox_mAP' in results


@pytest.mark.slow
def test_upernet_example_takes_pretrained_as_mmseg_backbones_do(
        seg_root, official_small, tmp_path):
    sd, path = official_small
    name = 'upernet_edgenext_small_4xb4-80k_ade20k-512x512.py'
    cfg = on_synthetic_seg(Config.fromfile(os.path.join(EXAMPLES, name)),
                           seg_root)
    assert cfg.model.pretrained == 'edgenext_small'
    cfg.model.pretrained = path
    with pytest.warns(DeprecationWarning, match='init_cfg'):
        results = run_example(name, cfg, tmp_path,
                              official_backbone_weights(sd))
    assert 'mIoU' in results


@pytest.mark.slow
def test_semantic_fpn_example_takes_a_classifier_by_prefix(
        seg_root, mmpretrain_small, tmp_path):
    path, _ = mmpretrain_small
    name = 'fpn_edgenext_small_4xb4-160k_ade20k-512x512.py'
    cfg = on_synthetic_seg(Config.fromfile(os.path.join(EXAMPLES, name)),
                           seg_root)
    cfg.model.backbone.init_cfg.checkpoint = path
    from mmedgenext.checkpoint import convert_state_dict
    state = torch.load(path)['state_dict']
    expected, fmt, _ = convert_state_dict(
        {k[9:]: v for k, v in state.items() if k.startswith('backbone.')})
    assert fmt == 'mmpretrain'
    results = run_example(name, cfg, tmp_path,
                          {k: v for k, v in expected.items()
                           if not k.startswith('head.')})
    assert 'mIoU' in results


def test_pretrained_and_init_cfg_together_is_an_error():
    from mmedgenext.models import EdgeNeXt
    with pytest.raises(ValueError, match='model.pretrained=None'):
        EdgeNeXt('xx_small', pretrained='a.pth',
                 init_cfg=dict(type='Pretrained', checkpoint='b.pth'))


def test_prefix_that_matches_nothing_is_named(official_small):
    from mmedgenext.models import EdgeNeXt
    _, path = official_small
    # An official file is read as its classifier (backbone.*, head.*), so
    # 'backbone.' would match; a prefix from another model's layout does not.
    model = EdgeNeXt('small', init_cfg=dict(
        type='Pretrained', checkpoint=path, prefix='encoder.'))
    with pytest.raises(ValueError, match="prefix='encoder.'"):
        model.init_weights()


# --- The stock inferencers -------------------------------------------------

@pytest.fixture(scope='module')
def ssdlite(det_root, tmp_path_factory):
    """The synthetic SSDLite config and a checkpoint of it (2 iterations)."""
    work = tmp_path_factory.mktemp('ssdlite')
    return train_briefly(det_small_cfg(det_root, work / 'work', 2), work)


@pytest.mark.slow
def test_mmdet_det_inferencer_predicts_as_the_test_pipeline(ssdlite,
                                                            det_root):
    from mmdet.apis import DetInferencer
    cfg_path, checkpoint = ssdlite
    image = os.path.join(det_root, 'val', 'val_00000.jpg')
    inferencer = DetInferencer(model=cfg_path, weights=checkpoint,
                               device='cpu', show_progress=False)
    got = inferencer(image, return_datasamples=True)['predictions'][0]
    expected = predict_with_test_pipeline(cfg_path, checkpoint, image,
                                          'mmdet')
    for key in ('bboxes', 'scores', 'labels'):
        torch.testing.assert_close(got.pred_instances[key],
                                   expected.pred_instances[key])
    assert len(got.pred_instances) > 0


def predict_with_test_pipeline(cfg_path, checkpoint, image, scope):
    """The config's test pipeline and model, as tools/test.py runs them."""
    from mmengine.dataset import Compose
    from mmengine.registry import MODELS
    from mmengine.runner import load_checkpoint
    cfg = Config.fromfile(cfg_path)
    init_default_scope(scope)
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, checkpoint, map_location='cpu')
    pipeline = cfg.test_dataloader.dataset.pipeline
    pipeline = [t for t in pipeline if t['type'] != 'LoadAnnotations']
    data = Compose(pipeline)(dict(img_path=image, img_id=0))
    with torch.no_grad():
        return model.test_step(dict(inputs=[data['inputs']],
                                    data_samples=[data['data_samples']]))[0]


@pytest.mark.slow
def test_mmseg_inferencer_runs_the_voc_config(seg_root, tmp_path):
    from mmseg.apis import MMSegInferencer
    from mmseg.registry import MODELS
    cfg = Config.fromfile(config('deeplabv3_edgenext_xx_small_voc12aug.py'))
    init_default_scope('mmseg')
    cfg.model.backbone.init_cfg = None
    model = randomize_(MODELS.build(cfg.model))
    checkpoint = str(tmp_path / 'deeplabv3.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(
        dataset_meta=dict(classes=[str(i) for i in range(21)],
                          palette=[[i, i, i] for i in range(21)]))),
               checkpoint)
    image = os.path.join(seg_root, 'JPEGImages', 'val_00000.jpg')
    inferencer = MMSegInferencer(
        model=config('deeplabv3_edgenext_xx_small_voc12aug.py'),
        weights=checkpoint, device='cpu')
    got = inferencer(image, return_datasamples=True, show=False)
    expected = predict_with_test_pipeline(
        config('deeplabv3_edgenext_xx_small_voc12aug.py'), checkpoint, image,
        'mmseg')
    assert got.pred_sem_seg.data.shape == (1, 64, 64)
    assert torch.equal(got.pred_sem_seg.data, expected.pred_sem_seg.data)


@pytest.mark.slow
def test_mmpretrain_inferencer_and_get_model_run_the_imagenet_config(
        cls_root, official_small, tmp_path):
    from mmpretrain import ImageClassificationInferencer, get_model
    sd, path = official_small
    image = glob.glob(os.path.join(cls_root, 'val', '*', '*.jpg'))[0]
    cfg_path = config('edgenext_small_in1k.py')
    init_default_scope('mmpretrain')  # as a fresh process has it
    # The authors' file as it is: converted when mmengine loads it.
    inferencer = ImageClassificationInferencer(model=cfg_path,
                                               pretrained=path, device='cpu')
    result = inferencer(image)[0]
    model = get_model(cfg_path, pretrained=path, device='cpu')
    expected = predict_with_test_pipeline(cfg_path, path, image,
                                          'mmpretrain')
    assert result['pred_label'] == int(expected.pred_label)
    assert result['pred_score'] == pytest.approx(
        float(expected.pred_score.max()), abs=1e-5)
    torch.testing.assert_close(model.head.fc.weight, sd['head.weight'])


# --- The stock train/test tools --------------------------------------------

def stock_tool(package, tool):
    path = os.path.join(
        os.path.dirname(importlib.import_module(package).__file__), '.mim',
        'tools', tool)
    assert os.path.isfile(path), f'{package} ships no {tool}'
    return path


def run_stock(package, tool, *args):
    result = subprocess.run(
        [sys.executable, stock_tool(package, tool), *args], cwd=ROOT,
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def stock_train_and_test(package, cfg, tmp_path, metric):
    cfg.train_cfg.val_interval = 1000  # the test tool evaluates
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    work = str(tmp_path / 'work')
    run_stock(package, 'train.py', cfg_path, '--work-dir', work)
    checkpoint = os.path.join(work, 'iter_2.pth')
    assert os.path.isfile(checkpoint)
    out = run_stock(package, 'test.py', cfg_path, checkpoint, '--work-dir',
                    str(tmp_path / 'test'))
    assert metric in out


@pytest.mark.slow
def test_mmdet_stock_tools_train_and_test_ssdlite(det_root, tmp_path):
    cfg = det_small_cfg(det_root, tmp_path / 'unused', 2, batch_size=2)
    stock_train_and_test('mmdet', cfg, tmp_path, 'coco/bbox_mAP')


@pytest.mark.slow
def test_mmseg_stock_tools_train_and_test_deeplabv3(seg_root, tmp_path):
    cfg = seg_small_cfg(seg_root, tmp_path / 'unused', 2)
    cfg.train_dataloader.batch_size = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=2)
    stock_train_and_test('mmseg', cfg, tmp_path, 'mIoU')


@pytest.mark.slow
def test_mmpretrain_stock_tools_train_and_test_a_classifier(cls_root,
                                                            tmp_path):
    cfg = Config.fromfile(config('edgenext_xx_small_in1k.py'))
    cfg.model.data_preprocessor.update(num_classes=3, scales=(64, ))
    cfg.model.head.num_classes = 3
    for name, split in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'), ('test_dataloader', 'val')):
        pipeline = cfg[name].dataset.pipeline
        _set_transforms(pipeline, RandomResizedCrop=dict(scale=64),
                        ResizeEdge=dict(scale=72), CenterCrop=dict(
                            crop_size=64))
        cfg[name].dataset = dict(type='CustomDataset', data_root=cls_root,
                                 data_prefix=split, pipeline=pipeline)
    cfg.val_evaluator = cfg.test_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.pop('model_wrapper_cfg', None)
    short_schedule(cfg, tmp_path / 'unused')
    cfg.custom_hooks = []  # no EMA for two iterations
    stock_train_and_test('mmpretrain', cfg, tmp_path, 'accuracy/top1')


def test_corrupt_image_is_named_by_the_stock_loader(tmp_path):
    """The configs load with the stock LoadImageFromFile; tools/test.py
    still names an unreadable image in one line."""
    from mmcv.transforms import LoadImageFromFile
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'\xff\xd8 truncated')
    from mmedgenext.datasets import dataset_error_message
    with pytest.raises(AssertionError) as error:
        LoadImageFromFile()(dict(img_path=str(broken)))
    assert dataset_error_message(error.value) == (
        f'Cannot read image {broken}: not a decodable image. Replace the '
        'file or remove it from the annotations.')
    with pytest.raises(FileNotFoundError) as error:
        LoadImageFromFile()(dict(img_path=str(tmp_path / 'gone.png')))
    assert dataset_error_message(error.value).startswith(
        f'Cannot read image {tmp_path / "gone.png"}: no such file.')
    assert dataset_error_message(ValueError('unrelated')) is None


@pytest.mark.slow
def test_every_config_loads_images_with_the_stock_loader():
    """Every config file that writes a pipeline starts it with the stock
    loader (mmdet's, mmseg's and mmpretrain's inferencers look it up by
    that exact name)."""
    paths = [p for p in glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'),
                                  recursive=True)
             if 'pipeline' in open(p).read()]
    assert len(paths) >= 10
    for path in paths:
        cfg = Config.fromfile(path)
        for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            loader = cfg.get(name)
            if not loader:
                continue
            datasets = [loader.dataset, *loader.dataset.get('datasets', [])]
            for dataset in datasets:
                types = [t['type'] for t in dataset.get('pipeline', [])]
                if types:
                    assert types[0] == 'LoadImageFromFile', (path, name)
