"""What both backbones do with their stages alike: check ``out_indices``,
freeze the first stages, keep BatchNorm statistics (mmpretrain's
``frozen_stages`` / ``norm_eval`` semantics)."""
from typing import Sequence

from torch.nn.modules.batchnorm import _BatchNorm


def resolve_out_indices(out_indices, num_stages):
    """Return ``out_indices`` as a tuple of stage indices in
    ``[0, num_stages)``; an int is one stage, negative indices count from
    the last stage."""
    if isinstance(out_indices, int):
        out_indices = (out_indices, )
    if not isinstance(out_indices, Sequence) or not out_indices:
        raise ValueError(
            f'out_indices must be a non-empty sequence, got {out_indices}')
    resolved = tuple(i + num_stages if i < 0 else i for i in out_indices)
    if any(not 0 <= i < num_stages for i in resolved):
        raise ValueError(f'out_indices must lie in [{-num_stages}, '
                         f'{num_stages - 1}], got {out_indices}')
    return resolved


class FrozenStagesMixin:
    """``frozen_stages`` and ``norm_eval`` for a backbone: the modules that
    :meth:`_frozen_modules` names stay in eval mode without gradients, and
    with ``norm_eval`` every BatchNorm keeps its running statistics while
    the rest trains."""

    def _frozen_modules(self):
        """The modules ``frozen_stages`` freezes (none for -1)."""
        raise NotImplementedError

    def _freeze_stages(self):
        for m in self._frozen_modules():
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
