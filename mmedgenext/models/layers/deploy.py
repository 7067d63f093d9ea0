"""Conversions of trained layers into their inference form (see
``switch_to_deploy`` of the EdgeNeXt blocks), and how that form runs at
eager CPU inference."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedgenext.compat import is_compiling


def eager_cpu_inference(x):
    """Whether ``x`` goes through eager CPU inference: no autograd, and not
    traced, exported or compiled (those get the plain ops, so that a graph
    keeps its 1x1 convs)."""
    return (x.device.type == 'cpu' and not torch.is_grad_enabled()
            and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export() and not is_compiling())


def as_matrix(layer):
    """The (out, in) weight of a Linear or a 1x1 conv (a view)."""
    return layer.weight.flatten(1)


def _activate_in_place(act, x):
    if type(act) is nn.GELU:
        return torch.ops.aten.gelu_(x, approximate=act.approximate)
    if type(act) is nn.Hardswish:
        return F.hardswish(x, inplace=True)
    return act(x)


def mlp_residual(pwconv1, act, pwconv2, x, shortcut):
    """``shortcut + pwconv2(act(pwconv1(x)))`` for 1x1 convs on NCHW maps.

    At eager CPU inference the convs run as two GEMMs on the channels-last
    view of the maps (a view: the backbone stores its maps channels-last),
    the activation in place and the residual add as the second GEMM's
    accumulator (``addmm_``): the same values with no 4x-wide temporary but
    the hidden map itself. On maps of a few thousand positions a GEMM costs
    less than oneDNN's 1x1 conv, and fewer large temporaries save the page
    faults of fresh allocations at batch 8 (docs/measurements.md).
    """
    if not eager_cpu_inference(x):
        return shortcut + pwconv2(act(pwconv1(x)))
    B, C, H, W = shortcut.shape
    tokens = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
    hidden = _activate_in_place(
        act, F.linear(tokens, as_matrix(pwconv1), pwconv1.bias))
    out = shortcut.permute(0, 2, 3, 1).reshape(-1, C) + pwconv2.bias
    out.addmm_(hidden, as_matrix(pwconv2).t())
    return out.view(B, H, W, C).permute(0, 3, 1, 2)


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
