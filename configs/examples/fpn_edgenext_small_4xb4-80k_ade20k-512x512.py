# Semantic FPN on EdgeNeXt-S, on mmseg's own base config, starting from an
# mmpretrain-layout ImageNet classifier through `prefix`.
_base_ = 'mmseg::sem_fpn/fpn_r50_4xb4-80k_ade20k-512x512.py'
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(0, 1, 2, 3),  # 48, 96, 160, 304 channels
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/edgenext_small_in1k/epoch_300.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[48, 96, 160, 304]))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'gamma': dict(decay_mult=0.)}))
