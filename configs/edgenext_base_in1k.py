# EdgeNeXt-B on ImageNet-1k: 82.47 top-1 published (83.68 USI). As small,
# plus Mixup/CutMix (the authors' notes: "Mixup & Cutmix"; alphas 0.8/1.0
# as in ConvNeXt, whose training code the reference builds on).
_base_ = './edgenext_small_in1k.py'
model = dict(
    data_preprocessor=dict(batch_augments=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ])),
    backbone=dict(arch='base'),
    head=dict(in_channels=584))
