# EdgeNeXt-x_small with BatchNorm and Hardswish (friendlier to int8 and NPUs):
# 74.87 top-1 published. The recipe of its LayerNorm counterpart.
_base_ = './edgenext_x_small_in1k.py'
model = dict(backbone=dict(arch='x_small_bn_hs'), head=dict(in_channels=192))
