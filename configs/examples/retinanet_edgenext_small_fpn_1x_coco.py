# RetinaNet with FPN on EdgeNeXt-S, written on mmdet's own base config the
# way mmdet's documentation swaps a backbone: replace it (_delete_), give the
# neck the backbone's widths, start from the authors' ImageNet weights.
# AdamW as mmdet's swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py (lr 1e-4,
# weight decay 0.05; SGD at lr 0.01 is unstable on attention backbones), no
# decay on norms, biases and layer scales.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
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
