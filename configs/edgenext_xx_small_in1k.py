# EdgeNeXt-XXS on ImageNet-1k: 71.23 top-1 published. No RandAugment and no
# drop path (the authors' notes: "No AA, Color Jitter=0.4, DropPath=0.0").
_base_ = [
    './_base_/models/edgenext_in1k.py',
    './_base_/datasets/imagenet_edgenext.py',
    './_base_/schedules/edgenext_in1k_adamw.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
model = dict(
    backbone=dict(arch='xx_small', drop_path_rate=0.),
    head=dict(in_channels=168))
