# ml-cvnets' SSDLite (cvnets-v0.1; the detector of EdgeFormer's 28.8 mAP and
# of the EdgeNeXt paper's 27.9), as ParC-Net's
# config/detection/edgeformer/ssd_edgeformer_s.yaml and ml-cvnets' option
# defaults set it (box sizes, confidence threshold): levels at the
# backbone's strides 16 and 32, separable-conv levels at 64, 128, 256 and a
# global level; one fused box/class separable conv per level (background =
# class 0); normalised priors; per-class NMS. Input BGR in [0, 1], no
# mean/std, as ml-cvnets.
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    type='SingleStageDetector',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[0., 0., 0.],
        std=[255., 255., 255.],
        bgr_to_rgb=False,
        pad_size_divisor=1),
    backbone=dict(
        type='mmedgenext.EdgeFormer',
        arch='s',
        out_indices=(3, 4),
        init_cfg=dict(type='Pretrained', checkpoint='edgeformer_s',
                      prefix='backbone.')),
    neck=dict(type='mmedgenext.CvnetsSSDNeck', in_channels=160,
              out_channels=(256, 128, 128, 64)),
    bbox_head=dict(
        type='mmedgenext.CvnetsSSDHead',
        num_classes=80,
        in_channels=(128, 160, 256, 128, 128, 64),
        proj_channels=(512, 256, 256, 128, 128, 64),
        aspect_ratios=[[2, 3]] * 5 + [[2]]),
    # ml-cvnets' yaml: matching IoU 0.5, 3:1 negatives; NMS IoU 0.5; its
    # default confidence threshold 0.05 and 200 boxes per class.
    train_cfg=dict(iou_threshold=0.5, neg_pos_ratio=3),
    test_cfg=dict(score_thr=0.05, iou_threshold=0.5, max_per_class=200))
