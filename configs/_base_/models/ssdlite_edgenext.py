# SSDLite at 320x320 on EdgeNeXt with mmdet's SSD head: the data
# preprocessor, neck, head, anchors, box coder, training and test settings of
# mmdet's ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py (SSD levels from
# the backbone's stride-16 and stride-32 maps, four extra stride-2
# depthwise-separable levels, priors of 48-320 px), but the NMS IoU: 0.5, as
# ml-cvnets' MobileViT-S SSDLite yaml, the EdgeNeXt paper's detector (that
# detector itself: the *_cvnets.py configs). Variant configs set the two
# backbone widths.
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
norm_cfg = dict(type='BN', eps=0.001, momentum=0.03)
model = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=1),
    backbone=dict(
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    neck=dict(
        type='SSDNeck',
        in_channels=(160, 304),
        out_channels=(160, 304, 512, 256, 256, 128),
        level_strides=(2, 2, 2, 2),
        level_paddings=(1, 1, 1, 1),
        l2_norm_scale=None,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='TruncNormal', layer='Conv2d', std=0.03)),
    bbox_head=dict(
        type='mmedgenext.SSDLiteHead',  # mmdet's SSDHead, predict fixed
        in_channels=(160, 304, 512, 256, 256, 128),
        num_classes=80,
        use_depthwise=True,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU6'),
        init_cfg=dict(type='Normal', layer='Conv2d', std=0.001),
        anchor_generator=dict(
            type='SSDAnchorGenerator',
            scale_major=False,
            strides=[16, 32, 64, 107, 160, 320],
            ratios=[[2, 3], [2, 3], [2, 3], [2, 3], [2, 3], [2, 3]],
            min_sizes=[48, 100, 150, 202, 253, 304],
            max_sizes=[100, 150, 202, 253, 304, 320]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[0.1, 0.1, 0.2, 0.2])),
    train_cfg=dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.5,
            min_pos_iou=0.,
            ignore_iof_thr=-1,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.,
        allowed_border=-1,
        pos_weight=-1,
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        nms_pre=1000,
        nms=dict(type='nms', iou_threshold=0.5),
        min_bbox_size=0,
        score_thr=0.02,
        max_per_img=200))
