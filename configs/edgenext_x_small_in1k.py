# EdgeNeXt-XS on ImageNet-1k: 74.96 top-1 published. No RandAugment and no
# drop path (the authors' notes: "No AA, DropPath=0.0").
_base_ = './edgenext_xx_small_in1k.py'
model = dict(backbone=dict(arch='x_small'), head=dict(in_channels=192))
