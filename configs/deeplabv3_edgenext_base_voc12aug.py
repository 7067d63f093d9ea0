_base_ = './deeplabv3_edgenext_small_voc12aug.py'
# Drop path as in the reference ImageNet recipe for this variant.
model = dict(
    backbone=dict(
        arch='base',
        drop_path_rate=0.1,
        init_cfg=dict(checkpoint='edgenext_base')),
    decode_head=dict(in_channels=584))
