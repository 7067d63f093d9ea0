"""ml-cvnets' SSDLite and DeepLabv3 in mmdet / mmseg: exact sizes, agreement
with the functional reference on random weights in the released layout
(loaded through the real loading paths), and a short training run of the
DeepLabv3 config on the synthetic set (what the trained SSD scores:
test_learning.py)."""
import numpy as np
import pytest
import reference_edgeformer as R
import torch
from helpers import (assert_same_detections, cfg_path, one_class_miou,
                     segment_as)
from mmengine.config import Config

from mmedgenext.apis import build_model, load_config


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def assert_close_to_range(out, ref):
    err = (out - ref).abs().max().item()
    assert err <= 1e-4 * (ref.max() - ref.min()).item(), err


@pytest.mark.parametrize('name,params', [
    ('ssdlite_edgeformer_s_coco.py', 5_197_282),
    ('deeplabv3_edgeformer_s_voc12aug.py', 5_816_397),
    ('ssdlite_edgenext_small_coco_cvnets.py', 6_278_722),
])
@pytest.mark.slow
def test_exact_sizes(name, params):
    assert n_params(build_model(load_config(cfg_path(name)))) == params


@pytest.fixture(scope='module')
def released_ssd(tmp_path_factory):
    W = R.Weights(seed=3)
    x = torch.rand(1, 3, 320, 320, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        conf, loc, _ = R.ssd_forward(W, x)
        dets = R.ssd_predict(W, x, conf_threshold=0.03)
    path = str(tmp_path_factory.mktemp('det') / 'checkpoint_ema_avg.pt')
    torch.save(R.add_residual_copies(dict(W.sd), 'encoder.'), path)
    return path, x, conf, loc, dets


@pytest.mark.slow
def test_ssd_matches_reference(released_ssd):
    from mmdet.structures import DetDataSample
    path, x, conf, loc, (boxes, scores, labels) = released_ssd
    cfg = load_config(cfg_path('ssdlite_edgeformer_s_coco.py'))
    cfg.model.test_cfg.score_thr = 0.03
    model = build_model(cfg, path)  # strict, through the Runner's loader
    with torch.no_grad():
        feats = model.extract_feat(x)
        c, d, priors = model.bbox_head._flatten(*model.bbox_head(feats))
        sample = DetDataSample(metainfo=dict(
            img_shape=(320, 320), ori_shape=(320, 320),
            scale_factor=(1., 1.)))
        pred = model.predict(x, [sample], rescale=True)[0].pred_instances
    assert len(priors) == 3232
    torch.testing.assert_close(priors, R.ssd_priors(
        [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]))
    assert_close_to_range(c, conf)
    assert_close_to_range(d, loc)
    assert 0 < len(labels) == len(pred.labels)
    assert_same_detections(
        (pred.bboxes, pred.scores, pred.labels),
        ((boxes * 320).clamp(0, 320), scores, labels - 1))


@pytest.mark.slow
def test_deeplabv3_matches_reference(tmp_path):
    W = R.Weights(seed=5)
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        ref = R.deeplabv3(W, x)
    path = str(tmp_path / 'checkpoint_ema_avg.pt')
    torch.save(W.sd, path)  # the segmentation release may lack residual.*
    model = build_model(load_config(
        cfg_path('deeplabv3_edgeformer_s_voc12aug.py')), path)
    with torch.no_grad():
        out = model.encode_decode(x, [dict(img_shape=(256, 256))])
    assert_close_to_range(out, ref)
    # ml-cvnets' evaluation: logits nearest-resized to the original image
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(
        img_shape=(256, 256), ori_shape=(200, 300), padding_size=[0] * 4))
    with torch.no_grad():
        pred = model.predict(x, [sample])[0]
    assert_close_to_range(
        pred.seg_logits.data,
        torch.nn.functional.interpolate(ref, (200, 300), mode='nearest')[0])
    assert torch.equal(pred.pred_sem_seg.data[0],
                       pred.seg_logits.data.argmax(0))


# ------------------------------------------------- configs on synthetic data
@pytest.mark.slow
def test_deeplabv3_config_trains_and_evaluates(tmp_path):
    from mmengine.runner import Runner

    from mmedgenext.synthetic_data import write_segmentation_set
    root = str(tmp_path / 'seg')
    write_segmentation_set(root, num_train=4, num_val=2, size=64)
    cfg = Config.fromfile(cfg_path('deeplabv3_edgeformer_s_voc12aug.py'))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.init_cfg = None
    cfg.model.decode_head.num_classes = 4
    cfg.model.data_preprocessor.size = (64, 64)
    dataset = dict(
        type='BaseSegDataset', data_root=root,
        metainfo=dict(classes=('background', 'circle', 'square',
                               'triangle')),
        data_prefix=dict(img_path='JPEGImages',
                         seg_map_path='SegmentationClass'),
        img_suffix='.jpg', seg_map_suffix='.png')
    train = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
             dict(type='PackSegInputs')]
    test = [dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=(64, 64), keep_ratio=False),
            dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
    cfg.train_dataloader = dict(
        batch_size=2, num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(dataset, ann_file='ImageSets/Segmentation/train.txt',
                     pipeline=train))
    cfg.val_dataloader = dict(
        batch_size=1, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(dataset, ann_file='ImageSets/Segmentation/val.txt',
                     pipeline=test))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2,
                         val_interval=2)
    cfg.param_scheduler = []
    cfg.custom_hooks = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2,
                                        by_epoch=False, save_best=None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert np.isfinite(runner.message_hub.get_scalar('train/loss').current())
    segment_as(runner.model, 0)  # all background: mIoU from the label maps
    assert runner.val_loop.run()['mIoU'] == pytest.approx(
        one_class_miou(root, 0), abs=6e-3)  # 2 decimals


@pytest.mark.slow
def test_classifier_config_trains_a_step():
    from mmpretrain.structures import DataSample
    cfg = load_config(cfg_path('edgeformer_s_in1k.py'))
    model = build_model(cfg).train()
    assert model.head.dropout.p == 0.2  # ml-cvnets' classifier_dropout
    data = dict(inputs=[torch.randint(0, 255, (3, 96, 96), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in (1, 2)])
    data = model.data_preprocessor(data, training=True)
    losses = model(**data, mode='loss')
    losses['loss'].backward()
    assert torch.isfinite(losses['loss'])
