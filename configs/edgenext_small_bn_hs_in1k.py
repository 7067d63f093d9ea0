# EdgeNeXt-small with BatchNorm and Hardswish (friendlier to int8 and NPUs):
# 78.39 top-1 published. The recipe of its LayerNorm counterpart.
_base_ = './edgenext_small_in1k.py'
model = dict(backbone=dict(arch='small_bn_hs'), head=dict(in_channels=304))
