"""The inference form's 1x1 convs as GEMMs at eager CPU inference.

The one place where the inference form (``switch_to_deploy``) looks at how
it is run rather than at its own structure, because it is measurably faster
there (docs/measurements.md): on maps of a few thousand positions a GEMM
costs less than oneDNN's 1x1 conv, and fewer large temporaries save the
page faults of fresh allocations at batch 8. Only where nothing records the
ops (no autograd, no trace, export or compile), so that an exported graph
keeps its 1x1 convs, and not under autocast (mixed dtypes in the fused add).
It earns the exception: 10-20% faster than the same form with its 1x1
convs (``tools/benchmark_backbone.py``'s "deploy" and "deploy convs").
"""
import contextlib

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmedgenext.compat import is_compiling, is_cpu_autocast_enabled

_gemms_allowed = True


def runs_as_gemms(x):
    """Whether the inference form's 1x1 convs run as GEMMs on ``x``: eager
    CPU inference, with no autograd and not traced, exported, compiled or
    autocast (those get the 1x1 convs themselves)."""
    return (_gemms_allowed and x.device.type == 'cpu'
            and not torch.is_grad_enabled() and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export() and not is_compiling()
            and not is_cpu_autocast_enabled())


@contextlib.contextmanager
def convs_only():
    """Run the inference form with its 1x1 convs everywhere: the baseline
    the GEMM path is timed against. Nested, the outer one still holds
    after the inner one ends."""
    global _gemms_allowed
    previous, _gemms_allowed = _gemms_allowed, False
    try:
        yield
    finally:
        _gemms_allowed = previous


def conv1x1_on_tokens(conv, tokens):
    """A 1x1 conv applied to (..., C) tokens: one GEMM."""
    return F.linear(tokens, conv.weight.flatten(1), conv.bias)


def _activate_in_place(act, x):
    if type(act) is nn.GELU:
        return torch.ops.aten.gelu_(x, approximate=act.approximate)
    if type(act) is nn.Hardswish:
        return F.hardswish(x, inplace=True)
    return act(x)


def mlp_residual_as_gemms(pwconv1, act, pwconv2, x, shortcut):
    """``shortcut + pwconv2(act(pwconv1(x)))`` for 1x1 convs on NCHW maps,
    as two GEMMs on the channels-last view of the maps (a view: the backbone
    stores its maps channels-last), the activation in place and the residual
    add as the second GEMM's accumulator (``addmm_``): the same values with
    no 4x-wide temporary but the hidden map itself."""
    B, C, H, W = shortcut.shape
    tokens = x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
    hidden = _activate_in_place(act, conv1x1_on_tokens(pwconv1, tokens))
    out = shortcut.permute(0, 2, 3, 1).reshape(-1, C) + pwconv2.bias
    out.addmm_(hidden, pwconv2.weight.flatten(1).t())
    return out.view(B, H, W, C).permute(0, 3, 1, 2)
