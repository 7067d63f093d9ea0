# Mask R-CNN with FPN on EdgeNeXt-S, on mmdet's own base config, with a list
# init_cfg: the listed initialisers run first and the pretrained weights
# are loaded last (mmengine's order), so only the layers the checkpoint
# lacks keep the first initialisation.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmedgenext.EdgeNeXt',
        arch='small',
        out_indices=(0, 1, 2, 3),  # 48, 96, 160, 304 channels
        drop_path_rate=0.1,
        init_cfg=[
            dict(type='TruncNormal', layer=['Conv2d', 'Linear'], std=0.02),
            dict(type='Constant', layer=['LayerNorm', 'BatchNorm2d'],
                 val=1.0, bias=0.),
            dict(type='Pretrained', checkpoint='edgenext_small'),
        ]),
    neck=dict(in_channels=[48, 96, 160, 304]))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.,
                       custom_keys={'gamma': dict(decay_mult=0.)}))
