"""Conversions of trained layers into their inference form (see
``switch_to_deploy`` of the EdgeNeXt blocks), and the oneDNN kernels that
form runs at CPU inference."""
import torch
import torch.nn as nn

from mmedgenext.compat import is_compiling

# oneDNN runs a 1x1 conv with its activation, or with the residual add, as
# one kernel (applied as the GEMM's output is written): the same values, one
# pass over the map less. Only in eager CPU inference (tracing, ONNX export
# and torch.compile see the plain ops) and for maps of at least 512
# positions: below that (measured on 2 cores) the call's fixed cost
# outweighs the saved pass.
_HAS_ONEDNN_CONV = torch.backends.mkldnn.is_available() and hasattr(
    torch.ops.mkldnn, '_convolution_pointwise')
_FUSION_MIN_POSITIONS = 512


def _fusable(x):
    return (_HAS_ONEDNN_CONV and x.device.type == 'cpu'
            and x.dtype == torch.float32 and not torch.is_grad_enabled()
            and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export() and not is_compiling()
            and x.numel() // x.shape[1] >= _FUSION_MIN_POSITIONS)


def _onednn_activation(act):
    """(attr, algorithm) of ``act`` as a oneDNN post-op, or None."""
    if type(act) is nn.GELU:
        return 'gelu', act.approximate
    if type(act) is nn.Hardswish:
        return 'hardswish', None
    return None


def conv1x1_act(conv, act, x):
    """``act(conv(x))`` for a 1x1 ``conv``."""
    post_op = _onednn_activation(act)
    if post_op is None or not _fusable(x):
        return act(conv(x))
    return torch.ops.mkldnn._convolution_pointwise(
        x, conv.weight, conv.bias, [0, 0], [1, 1], [1, 1], 1, post_op[0], [],
        post_op[1])


def conv1x1_add(conv, x, other):
    """``conv(x) + other`` for a 1x1 ``conv``."""
    if not _fusable(x):
        return conv(x) + other
    return torch.ops.mkldnn._convolution_pointwise(
        x, other, conv.weight, conv.bias, [0, 0], [1, 1], [1, 1], 1, 'add',
        1.0, None, [], None)


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
