# ATSS with FPN on EdgeNeXt-S, on mmdet's own base config.
_base_ = 'mmdet::atss/atss_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(1, 2, 3),  # strides 8, 16, 32: 96, 160, 304 channels
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='edgenext_small')),
    neck=dict(in_channels=[96, 160, 304]))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'gamma': dict(decay_mult=0.)}))
