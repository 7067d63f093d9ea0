"""``--amp`` on machines without a GPU."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmedgenext.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on the CPU: the forward pass and loss under
    ``torch.autocast('cpu', torch.bfloat16)``, the update in float32.

    mmengine's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU device (its
    float16 loss scaler needs one). bfloat16, the one type CPU autocast
    takes, has float32's exponent range, so no loss scaling is needed.
    """

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield
