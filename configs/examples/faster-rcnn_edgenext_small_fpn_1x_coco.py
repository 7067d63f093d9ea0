# Faster R-CNN with FPN on EdgeNeXt-S, on mmdet's own base config. The
# backbone starts from an ImageNet classifier trained with mmpretrain (e.g.
# this repository's configs/edgenext_small_in1k.py): mmdet's documented
# idiom takes its `backbone.` weights with `prefix`.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
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
