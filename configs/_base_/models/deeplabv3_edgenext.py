# DeepLabv3 on EdgeNeXt with mmseg's ASPPHead, following the protocol behind
# the paper's VOC result (ml-cvnets' MobileViT-S DeepLabv3 yaml,
# config/segmentation/mobilevit/deeplabv3_mobilevit_small.yaml in ParC-Net):
# output stride 16, ASPP with 256 channels at rates 6/12/18 plus image
# pooling, dropout 0.1, no auxiliary head. The rates are DeepLab's for output
# stride 16, as mmseg's d16 configs set them; at output stride 8 they double
# (12/24/36, mmseg's d8 configs). The arch-specific configs set the variant,
# its widths and its ImageNet checkpoint.
norm_cfg = dict(type='SyncBN', requires_grad=True)  # plain BN on one device
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet statistics, as pretrained
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(2, 3),
        output_stride=16,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    decode_head=dict(
        type='ASPPHead',
        in_channels=304,
        in_index=1,
        channels=256,
        dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
