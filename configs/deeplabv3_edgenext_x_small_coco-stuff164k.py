_base_ = './deeplabv3_edgenext_small_coco-stuff164k.py'
# Drop path as in the reference ImageNet recipe for this variant.
model = dict(
    backbone=dict(
        arch='x_small',
        drop_path_rate=0.0,
        init_cfg=dict(checkpoint='edgenext_x_small')),
    decode_head=dict(in_channels=192))
