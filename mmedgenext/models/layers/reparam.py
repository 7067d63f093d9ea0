"""Conversions of trained layers into their inference form (see
``switch_to_deploy`` of the EdgeNeXt blocks): Linears as 1x1 convs on NCHW
maps, BatchNorms and layer scales folded into them."""
import torch
import torch.nn as nn


def _bn_affine(bn):
    """(scale, shift) of an eval-mode BatchNorm: bn(x) = scale * x + shift."""
    scale = bn.weight.detach() / (bn.running_var + bn.eps).sqrt()
    return scale, bn.bias.detach() - bn.running_mean * scale


def fold_preceding_bn(bn, conv):
    """The conv equal to ``conv(bn(x))``; exact only for an unpadded conv
    (padding would see zeros, not the BatchNorm's shift)."""
    if any(conv.padding) or conv.groups != 1:
        raise ValueError('a BatchNorm folds only into a following unpadded, '
                         'ungrouped conv')
    scale, shift = _bn_affine(bn)
    weight = conv.weight.detach()
    bias = weight.sum((2, 3)) @ shift
    if conv.bias is not None:
        bias = bias + conv.bias.detach()
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                       conv.stride, dilation=conv.dilation).to(weight)
    with torch.no_grad():
        folded.weight.copy_(weight * scale[:, None, None])
        folded.bias.copy_(bias)
    return folded


def linear_to_conv1x1(linear, out_scale=None, in_bn=None):
    """The 1x1 conv on NCHW maps that equals ``linear`` on channels-last
    tokens, times ``out_scale`` per output channel (a layer scale) and after
    the per-channel affine of an eval-mode ``in_bn`` (BatchNorm folded)."""
    weight, bias = linear.weight.detach(), linear.bias
    bias = (bias.detach() if bias is not None else
            weight.new_zeros(weight.shape[0]))
    if in_bn is not None:
        scale, shift = _bn_affine(in_bn)
        bias = bias + weight @ shift
        weight = weight * scale
    if out_scale is not None:
        weight = weight * out_scale.detach()[:, None]
        bias = bias * out_scale.detach()
    conv = nn.Conv2d(weight.shape[1], weight.shape[0], 1).to(weight)
    with torch.no_grad():
        conv.weight.copy_(weight[:, :, None, None])
        conv.bias.copy_(bias)
    return conv
