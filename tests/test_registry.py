"""type='mmedgenext.EdgeNeXt' from mmdet, mmseg and mmpretrain configs."""
import torch
from mmengine.registry import DefaultScope, init_default_scope

BACKBONE = dict(type='mmedgenext.EdgeNeXt', arch='xx_small')


def test_mmdet_detector_with_edgenext():
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    detector = MODELS.build(
        dict(type='RetinaNet',
             data_preprocessor=dict(type='DetDataPreprocessor'),
             backbone=dict(BACKBONE, out_indices=(1, 2, 3)),
             neck=dict(type='FPN', in_channels=[48, 88, 168],
                       out_channels=32, start_level=0,
                       add_extra_convs='on_input', num_outs=5),
             bbox_head=dict(
                 type='RetinaHead', num_classes=3, in_channels=32,
                 feat_channels=32, stacked_convs=1,
                 anchor_generator=dict(
                     type='AnchorGenerator', octave_base_scale=4,
                     scales_per_octave=1, ratios=[1.0],
                     strides=[8, 16, 32, 64, 128]),
                 bbox_coder=dict(type='DeltaXYWHBBoxCoder'),
                 loss_cls=dict(type='FocalLoss', use_sigmoid=True),
                 loss_bbox=dict(type='L1Loss')),
             train_cfg=dict(
                 assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                               neg_iou_thr=0.4),
                 allowed_border=-1, pos_weight=-1),
             test_cfg=dict(nms_pre=100, score_thr=0.05, max_per_img=10,
                           nms=dict(type='nms', iou_threshold=0.5))))
    assert type(detector.backbone).__module__.startswith('mmedgenext')
    feats = detector.extract_feat(torch.randn(1, 3, 128, 128))
    assert [f.shape[-1] for f in feats] == [16, 8, 4, 2, 1]


def test_mmseg_segmentor_with_edgenext():
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    segmentor = MODELS.build(
        dict(type='EncoderDecoder',
             data_preprocessor=dict(type='SegDataPreProcessor'),
             backbone=BACKBONE,
             decode_head=dict(type='FCNHead', in_channels=168, channels=16,
                              num_convs=1, num_classes=4, in_index=3)))
    out = segmentor(torch.randn(1, 3, 64, 64), mode='tensor')
    assert out.shape == (1, 4, 2, 2)


def test_mmpretrain_classifier_with_edgenext():
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    classifier = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(BACKBONE, out_indices=(3, ),
                           gap_before_final_norm=True),
             head=dict(type='LinearClsHead', num_classes=7, in_channels=168)))
    assert classifier(torch.randn(2, 3, 64, 64), mode='tensor').shape == (2, 7)
    # mmpretrain's own EdgeNeXt is untouched by the plugin.
    assert MODELS.get('EdgeNeXt').__module__.startswith('mmpretrain')


def test_plugin_scope_builds_without_framework():
    from mmedgenext.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmedgenext'):
        model = MODELS.build(dict(type='EdgeNeXt', arch='xx_small_bn_hs'))
    assert model.norm_cfg == dict(type='BN')
