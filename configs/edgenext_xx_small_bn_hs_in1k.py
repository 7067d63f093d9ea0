# EdgeNeXt-xx_small with BatchNorm and Hardswish (friendlier to int8 and NPUs):
# 70.33 top-1 published. The recipe of its LayerNorm counterpart.
_base_ = './edgenext_xx_small_in1k.py'
model = dict(backbone=dict(arch='xx_small_bn_hs'), head=dict(in_channels=168))
