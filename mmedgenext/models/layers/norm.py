"""Normalisation layers as the two EdgeNeXt families use them."""
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map.

    Computed as a channels-last ``F.layer_norm`` between two permutes, which is
    free when the map is stored channels-last (as the backbone keeps it) and
    gives the same values as the reference's hand-written channels-first norm.
    """

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


NORM_TYPES = ('LN', 'BN')


def build_map_norm(norm_type, channels):
    """Norm of an NCHW map: LayerNorm2d (LN family) or BatchNorm2d (BN)."""
    if norm_type == 'LN':
        return LayerNorm2d(channels, eps=1e-6)
    return nn.BatchNorm2d(channels)


def build_token_norm(norm_type, channels):
    """Norm used inside a block: channels-last LayerNorm for the LN family,
    BatchNorm2d on the NCHW map for the BN/Hardswish family."""
    if norm_type == 'LN':
        return nn.LayerNorm(channels, eps=1e-6)
    return nn.BatchNorm2d(channels)


def build_activation(norm_type):
    """GELU goes with LayerNorm, Hardswish with BatchNorm (paper, Sec. 4)."""
    return nn.GELU() if norm_type == 'LN' else nn.Hardswish()
