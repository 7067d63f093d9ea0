# The VOC recipe with mmseg's usual auxiliary FCN head (that of its
# deeplabv3_r50-d8 configs) on the stride-16 stage-2 map (the paper's
# protocol uses none; this is the common option).
_base_ = './deeplabv3_edgenext_small_voc12aug.py'
model = dict(
    backbone=dict(out_indices=(2, 3)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=160,
        in_index=0,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg={{_base_.norm_cfg}},
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)))
