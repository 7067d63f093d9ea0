"""Guards for torch APIs newer than the oldest supported torch (2.1.2).

Each helper behaves the same on every supported release; the version where
the newer API appeared says when a guard can go.
"""
import functools
import inspect
import re

import torch

TORCH_VERSION = tuple(
    int(v) for v in re.match(r'(\d+)\.(\d+)', torch.__version__).groups())


def is_compiling():
    """Whether torch.compile / dynamo is tracing the caller
    (``torch.compiler.is_compiling``, torch >= 2.3)."""
    if hasattr(torch.compiler, 'is_compiling'):
        return torch.compiler.is_compiling()
    return torch._dynamo.is_compiling()


def _cpu_autocast_query():
    """``torch.is_autocast_enabled('cpu')`` (torch >= 2.4, where
    ``is_autocast_cpu_enabled`` is deprecated), else the older query;
    chosen once, as the backbone's inference form asks on every block."""
    try:
        torch.is_autocast_enabled('cpu')
    except TypeError:
        return torch.is_autocast_cpu_enabled
    return functools.partial(torch.is_autocast_enabled, 'cpu')


# Whether CPU autocast is on.
is_cpu_autocast_enabled = _cpu_autocast_query()


def torchscript_onnx_export_kwargs():
    """Arguments that select the TorchScript ONNX exporter: torch >= 2.5
    has a ``dynamo`` switch and defaults to the dynamo exporter from 2.9;
    older releases only have the TorchScript one."""
    if 'dynamo' in inspect.signature(torch.onnx.export).parameters:
        return dict(dynamo=False)
    return {}
