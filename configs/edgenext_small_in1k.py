# EdgeNeXt-S on ImageNet-1k, the reference recipe: 79.41 top-1 published
# (81.07 with USI distillation). `tools/test.py` with this config evaluates
# the authors' edgenext_small.pth as it is (converted on load).
_base_ = [
    './_base_/models/edgenext_in1k.py',
    './_base_/datasets/imagenet_edgenext.py',
    './_base_/schedules/edgenext_in1k_adamw.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmedgenext'], allow_failed_imports=False)
# RandAugment rand-m9-mstd0.5-inc1 for small and base (the authors' notes in
# models/model.py: "AA=True"); timm's training transform then skips the
# colour jitter, so it is replaced, not added.
bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale={{_base_.train_crop}},
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2,
         total_level=10, magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean],
                      interpolation='bicubic')),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
