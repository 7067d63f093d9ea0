# The EdgeNeXt paper's detection protocol (27.9 mAP, 6.2M, 2.1G): ml-cvnets'
# SSDLite, as trained for EdgeFormer, on EdgeNeXt-S's stride-16 and stride-32
# maps, beside the mmdet-native ssdlite_edgenext_small_coco.py. EdgeNeXt's
# ImageNet weights expect RGB with ImageNet mean/std, so this keeps them.
_base_ = './ssdlite_edgeformer_s_coco.py'
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    neck=dict(in_channels=304),
    bbox_head=dict(in_channels=(160, 304, 256, 128, 128, 64)))
