# The EdgeNeXt paper's segmentation protocol (80.2 mIoU): ml-cvnets' DeepLabv3
# head, as trained for EdgeFormer, on EdgeNeXt-S at output stride 16, beside
# the mmseg-native deeplabv3_edgenext_small_voc12aug.py. EdgeNeXt's ImageNet
# weights expect RGB with ImageNet mean/std, so this keeps them.
_base_ = './deeplabv3_edgeformer_s_voc12aug.py'
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(3, ),
        output_stride=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    decode_head=dict(in_channels=304))
