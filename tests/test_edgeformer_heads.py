"""ml-cvnets' SSDLite and DeepLabv3 in mmdet / mmseg (their sizes:
test_config_sizes.py): agreement with the authors' own EdgeFormer-S SSD and
DeepLabv3 (ParC-Net, ml-cvnets cvnets-v0.1) on seeded weights saved as
their models save them, loaded through the real loading paths: raw
outputs, priors, detections (also rescaled to a non-square original image,
and capped per image), prior matching, target encoding and the multibox
loss; DeepLabv3's logits at output stride 16 and 8, and its ASPP on a map
wider than its largest rate; short training runs of the configs on the
synthetic sets (what the trained SSD scores: test_learning.py)."""
import numpy as np
import pytest
import torch
from fixtures.seeded_weights import seeded_images
from helpers import (assert_close_to_range, assert_same_detections,
                     authors_state_dict, cfg_path, edgeformer_reference)
from mmengine.config import Config

from mmedgenext.apis import build_model, load_config

SSD_CONFIG = 'ssdlite_edgeformer_s_coco.py'
DEEPLAB_CONFIG = 'deeplabv3_edgeformer_s_voc12aug.py'


def det_sample(img_shape, gt=None):
    """A DetDataSample of an image the network sees as it is, optionally
    with ground truth ``(pixel boxes, 0-based labels)``."""
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(
        img_shape=img_shape, ori_shape=img_shape, scale_factor=(1., 1.)))
    if gt is not None:
        sample.gt_instances = InstanceData(bboxes=gt[0], labels=gt[1])
    return sample


# ml-cvnets' COCO-SSD dataset matches against the priors of these maps at
# 320x320: ceil(320 / stride) for strides 16 ... 256, 1 for the global level.
SSD_MAPS_320 = [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


@pytest.fixture(scope='module')
def ssd_head():
    """The config's SSD head as the detector builds it (train_cfg and
    test_cfg included), with no weights: what matching and the loss use."""
    from mmdet.registry import MODELS
    cfg = load_config(cfg_path(SSD_CONFIG))
    return MODELS.build(dict(cfg.model.bbox_head,
                             train_cfg=cfg.model.train_cfg,
                             test_cfg=cfg.model.test_cfg))


@pytest.fixture(scope='module')
def authors_ssd(tmp_path_factory):
    """The authors' SSD file; our detector loaded from it (strictly,
    through the Runner's loader) and its level maps for the authors' 320x320
    input, through the config's data preprocessor."""
    reference = edgeformer_reference('detection')
    path = str(tmp_path_factory.mktemp('det') / 'checkpoint_ema_avg.pt')
    torch.save(authors_state_dict(reference), path)
    model = build_model(load_config(cfg_path(SSD_CONFIG)), path)
    data = model.data_preprocessor(dict(
        inputs=[reference['resized'].permute(2, 0, 1)],
        data_samples=[det_sample((320, 320))]))
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        maps = model.bbox_head(feats)
    return reference, path, model, feats, maps


def authors_detections(found, size=None):
    """Their ``predict`` result as mmdet's (boxes in pixels of a ``size``
    image, clipped to it; 0-based labels), or ``predict_and_save``'s."""
    boxes = found['boxes']
    if size is not None:
        boxes = (boxes * size).clamp(0, size)
    return boxes, found['scores'], found['labels'] - 1


def test_ssd_priors_are_the_authors(ssd_head):
    """Their anchors at 320x320: normalised, centred in each cell of the
    actual map, clamped to [0, 1] in centre form."""
    priors = ssd_head.priors(SSD_MAPS_320)
    assert torch.equal(priors, edgeformer_reference('detection')['anchors'])


def test_ssd_decoding_is_the_authors(ssd_head):
    """Their decoding of large size deltas: no clamp (mmdet's coders clamp
    at log(1000 / 16))."""
    decoded = edgeformer_reference('detection')['decoded']
    priors = ssd_head.priors(SSD_MAPS_320)
    deltas = torch.from_numpy(decoded['scale'] * np.random.default_rng(
        decoded['seed']).standard_normal(priors.shape, dtype=np.float32))
    assert (deltas[:, 2:] * ssd_head.size_variance).abs().max() > 5
    torch.testing.assert_close(ssd_head.decode(deltas, priors),
                               decoded['boxes'])


@pytest.mark.slow
def test_ssd_outputs_are_the_authors(authors_ssd):
    reference, _, model, _, maps = authors_ssd
    conf, deltas, priors = model.bbox_head._flatten(*maps)
    assert torch.equal(priors, reference['anchors'])
    assert_close_to_range(conf[0], reference['confidences'])
    assert_close_to_range(deltas[0], reference['locations'])


@pytest.mark.slow
def test_ssd_detections_are_the_authors_predict(authors_ssd):
    reference, _, model, _, maps = authors_ssd
    with torch.no_grad():
        pred = model.bbox_head.predict_by_feat(
            *maps, batch_img_metas=[det_sample((320, 320)).metainfo])[0]
    assert len(pred) == len(reference['predict']['labels']) > 1000
    assert_same_detections((pred.bboxes, pred.scores, pred.labels),
                           authors_detections(reference['predict'], 320))


@pytest.mark.slow
def test_ssd_rescales_to_the_original_image_as_the_authors(authors_ssd):
    """mmdet's inference on the 240x360 original: the config's pipeline
    resizes it to 320x320 ignoring the ratio, the boxes come back scaled by
    the original width and height and clipped to it, as the authors'
    ``predict_and_save``."""
    from mmdet.apis import inference_detector, init_detector
    reference, path, _, _, _ = authors_ssd
    model = init_detector(cfg_path(SSD_CONFIG), path, device='cpu')
    pred = inference_detector(model, reference['original'].numpy())
    assert pred.ori_shape == (240, 360)
    theirs = authors_detections(reference['predict_and_save'])
    assert theirs[0][:, 0::2].max() == 360  # clipped at the original width
    assert_same_detections(
        (pred.pred_instances.bboxes, pred.pred_instances.scores,
         pred.pred_instances.labels), theirs, box_tol=360 * 1e-4)


@pytest.mark.slow
def test_ssd_max_per_img_keeps_the_authors_best_detections(authors_ssd):
    """The authors keep 200 per class and no cap across classes; with
    ``max_per_img`` the highest-scoring of theirs remain."""
    reference, _, model, _, maps = authors_ssd
    boxes, scores, labels = authors_detections(reference['predict'], 320)
    cap = 100
    top = scores.argsort(descending=True)
    assert scores[top[cap - 1]] - scores[top[cap]] > 1e-5  # no tie at cut
    head = model.bbox_head
    head.test_cfg['max_per_img'] = cap
    try:
        with torch.no_grad():
            pred = head.predict_by_feat(
                *maps, batch_img_metas=[det_sample((320, 320)).metainfo])[0]
    finally:
        head.test_cfg['max_per_img'] = None
    assert len(pred) == cap
    kept = top[:cap]
    assert_same_detections((pred.bboxes, pred.scores, pred.labels),
                           (boxes[kept], scores[kept], labels[kept]))


def test_ssd_matching_and_encoding_are_the_authors(ssd_head):
    """Per prior: the label and encoded location their SSDMatcher gives
    (IoU 0.5, each box its best prior, variances 0.1 / 0.2)."""
    reference = edgeformer_reference('detection')
    targets = reference['ssd_targets']
    size = targets['image_size']
    for i, (boxes, labels) in enumerate(zip(targets['gt_boxes'],
                                            targets['gt_labels'])):
        got_labels, got_locations = ssd_head.match(
            boxes / size, labels, reference['anchors'])
        assert torch.equal(got_labels, targets['labels'][i])
        if len(boxes):  # without boxes the authors encode a zero box
            pos = got_labels > 0
            assert pos.sum() >= len(boxes)  # the tiny box has its prior
            # Within float32 rounding: torch's vectorised log differs by an
            # ulp between CPUs (the fixture came from an Intel Xeon).
            torch.testing.assert_close(got_locations,
                                       targets['locations'][i], rtol=1e-6,
                                       atol=2e-6)


def level_maps(flat, sizes, anchors):
    """Per-level ``(B, A * C, H, W)`` maps whose flattening (level, y, x,
    anchor) is ``flat (B, N, C)``."""
    maps, start = [], 0
    for (h, w), a in zip(sizes, anchors):
        level = flat[:, start:start + h * w * a]
        start += h * w * a
        maps.append(level.reshape(len(flat), h, w, a, -1).permute(
            0, 3, 4, 1, 2).reshape(len(flat), -1, h, w))
    return maps


def test_ssd_loss_is_the_authors(ssd_head):
    """Their multibox loss (smooth L1 on the positives, cross entropy on
    them and the 3x as many hardest negatives per image, over the number of
    positives) on seeded confidences and locations for a batch of three."""
    reference = edgeformer_reference('detection')
    targets = reference['ssd_targets']
    rng = np.random.default_rng(targets['loss_seed'])
    batch, (num_priors, num_classes) = (len(targets['gt_boxes']),
                                        reference['confidences'].shape)
    conf = torch.from_numpy(rng.standard_normal(
        (batch, num_priors, num_classes), dtype=np.float32))
    loc = torch.from_numpy(rng.standard_normal((batch, num_priors, 4),
                                               dtype=np.float32))
    head = ssd_head
    samples = [det_sample((320, 320), gt=(boxes, labels - 1))
               for boxes, labels in zip(targets['gt_boxes'],
                                        targets['gt_labels'])]
    losses = head.loss_by_feat(
        level_maps(conf, SSD_MAPS_320, head.num_anchors),
        level_maps(loc, SSD_MAPS_320, head.num_anchors),
        [s.gt_instances for s in samples], [s.metainfo for s in samples])
    assert sum(losses.values()).item() == pytest.approx(targets['loss'],
                                                        rel=1e-5)


@pytest.mark.slow
def test_ssd_loss_on_the_detector_outputs_is_the_authors(authors_ssd):
    """bbox_head.loss as SingleStageDetector.loss calls it, on the first
    ground-truth image's boxes."""
    reference, _, model, feats, _ = authors_ssd
    targets = reference['ssd_targets']
    sample = det_sample((320, 320), gt=(targets['gt_boxes'][0],
                                        targets['gt_labels'][0] - 1))
    with torch.no_grad():
        losses = model.bbox_head.loss(feats, [sample])
    assert sum(losses.values()).item() == pytest.approx(
        targets['loss_first_image_model_outputs'], rel=1e-5)


@pytest.mark.slow
def test_deeplabv3_logits_are_the_authors(tmp_path):
    """The authors' segmentation file in our DeepLabv3 (without the
    ``residual.*`` copies, which that release may lack: either way the
    conversion is the same), their 256x256 image through the config's data
    preprocessor, their logits; then ml-cvnets' evaluation: the logits
    nearest-resized to the original image, argmax."""
    from mmseg.structures import SegDataSample

    from mmedgenext.checkpoint.cvnets import convert_cvnets_state_dict
    reference = edgeformer_reference('segmentation')
    state = authors_state_dict(reference)
    without = {k: v for k, v in state.items()
               if not k.startswith('encoder.residual.')}
    assert len(without) == len(state) - 18
    converted = convert_cvnets_state_dict(without)[0]
    assert converted.keys() == convert_cvnets_state_dict(state)[0].keys()
    path = str(tmp_path / 'checkpoint_ema_avg.pt')
    torch.save(without, path)
    model = build_model(load_config(cfg_path(DEEPLAB_CONFIG)), path)
    sample = SegDataSample(metainfo=dict(
        img_shape=(256, 256), ori_shape=(200, 300), padding_size=[0] * 4))
    data = model.data_preprocessor(dict(
        inputs=[reference['image'][0].permute(2, 0, 1)],
        data_samples=[sample]))
    with torch.no_grad():
        logits = model.encode_decode(data['inputs'], [sample.metainfo])
    assert_close_to_range(logits[0, :, ::4, ::4],
                          reference['logits_every_4th'])
    pred = model.postprocess_result(logits, data['data_samples'])[0]
    torch.testing.assert_close(
        pred.seg_logits.data, torch.nn.functional.interpolate(
            logits, (200, 300), mode='nearest')[0])
    assert torch.equal(pred.pred_sem_seg.data[0],
                       pred.seg_logits.data.argmax(0))


@pytest.fixture(scope='module')
def authors_os8_file(tmp_path_factory):
    """The authors' DeepLabv3 file of segmentation_os8.pt's weights (their
    layout; the output stride changes no weight) and what it computed."""
    reference = edgeformer_reference('segmentation_os8')
    path = str(tmp_path_factory.mktemp('seg8') / 'checkpoint_ema_avg.pt')
    torch.save(authors_state_dict(reference), path)
    return reference, path


def test_deeplabv3_at_output_stride_8_is_the_authors(authors_os8_file):
    """The config at ``backbone.output_stride=8`` against their yaml at
    ``output_stride: 8``: layer_4 keeps the stride-8 resolution, layer_5's
    MobileNetV2 is dilated, and the GCC kernels stretch to the larger maps
    (16 at 128x128); the logits of their 128x128 image are theirs."""
    from mmseg.structures import SegDataSample
    reference, path = authors_os8_file
    cfg = load_config(cfg_path(DEEPLAB_CONFIG))
    cfg.model.backbone.output_stride = 8
    model = build_model(cfg, path)
    sample = SegDataSample(metainfo=dict(
        img_shape=(128, 128), ori_shape=(128, 128), padding_size=[0] * 4))
    data = model.data_preprocessor(dict(
        inputs=[reference['image'][0].permute(2, 0, 1)],
        data_samples=[sample]), False)
    with torch.no_grad():
        assert model.extract_feat(data['inputs'])[0].shape[-1] == 16
        logits = model.encode_decode(data['inputs'], [sample.metainfo])
    assert_close_to_range(logits[0, :, ::4, ::4],
                          reference['logits_every_4th'])


def test_deeplabv3_aspp_rates_are_the_authors(authors_os8_file):
    """The config's head (``decode_head`` before mmseg's upsampling) on a
    40x40 map, where every rate's taps, up to 18 pixels out, land inside:
    their ASPP, the yaml's rates 6/12/18 in their order, and their
    classifier."""
    reference, path = authors_os8_file
    model = build_model(load_config(cfg_path(DEEPLAB_CONFIG)), path)
    aspp = reference['aspp']
    assert min(aspp['shape'][2:]) > 2 * 18
    with torch.no_grad():
        logits = model.decode_head([seeded_images(aspp['shape'],
                                                  aspp['seed'])])
    assert_close_to_range(logits[0], aspp['logits'])


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
    miou = runner.val_loop.run()['mIoU']  # the trained model, scored
    assert 0 <= miou <= 100  # what it learns: test_learning.py


@pytest.mark.slow
def test_classifier_config_trains_a_step():
    from mmpretrain.structures import DataSample
    cfg = load_config(cfg_path('edgeformer_s_in1k.py'))
    model = build_model(cfg).train()
    assert model.head.dropout.p == 0.2  # ml-cvnets' classifier_dropout
    g = torch.Generator().manual_seed(0)
    data = dict(inputs=[torch.randint(0, 255, (3, 96, 96), dtype=torch.uint8,
                                      generator=g) for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in (1, 2)])
    data = model.data_preprocessor(data, training=True)
    losses = model(**data, mode='loss')
    losses['loss'].backward()
    assert torch.isfinite(losses['loss'])
