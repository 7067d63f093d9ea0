"""Fourier positional encoding of the stage-2 SDTA block."""
import math

import torch
import torch.nn as nn


class FourierPositionalEncoding(nn.Module):
    """Sine/cosine features of normalised (y, x) coordinates, projected to
    ``dim`` channels by a 1x1 conv (DETR-style, as in XCiT and EdgeNeXt).

    The features depend only on the map size, so they are computed once for a
    batch of one and broadcast over the batch. The y and x features occupy
    separate input channels of the projection, so it is applied to each
    axis's features alone and the two results are added: the conv's function
    with (H + W) instead of H x W projections, and no convolution on
    size-derived values in an exported graph (int8 quantizers would quantize
    it).

    ``fixed_size``: under tracing, the size is read as Python ints, which
    makes the encoding a constant of the graph; an export with free height
    and width clears it, so that the graph computes the encoding from its
    input's size.
    """

    def __init__(self, dim, hidden_dim=32, temperature=10000.):
        super().__init__()
        self.token_projection = nn.Conv2d(hidden_dim * 2, dim, kernel_size=1)
        self.hidden_dim = hidden_dim
        self.temperature = temperature
        self.fixed_size = True

    def _features(self, length, dim_t):
        """(length, hidden_dim): interleaved sin/cos of the positions 1 to
        ``length`` normalised to (0, 2 pi]."""
        eps, scale = 1e-6, 2 * math.pi
        pos = torch.arange(1, length + 1, dtype=torch.float32,
                           device=dim_t.device)
        pos = (pos / (pos[-1:] + eps) * scale)[:, None] / dim_t
        return torch.stack((pos[:, 0::2].sin(), pos[:, 1::2].cos()),
                           dim=2).flatten(1)

    def forward(self, height, width):
        """Return a (1, dim, height, width) float32 encoding."""
        if self.fixed_size:
            height, width = int(height), int(width)
        weight = self.token_projection.weight
        dim_t = torch.arange(self.hidden_dim, dtype=torch.float32,
                             device=weight.device)
        dim_t = self.temperature**(2 * torch.div(
            dim_t, 2, rounding_mode='floor') / self.hidden_dim)
        # Products and sums, not a matrix product: left float by int8
        # quantizers, as the constant encoding of a fixed-size graph is.
        weight = weight.flatten(1)[:, None].float()  # (dim, 1, 2 * hidden)
        by_y = (self._features(height, dim_t) * weight[..., :self.hidden_dim]
                ).sum(-1)  # (dim, height)
        by_x = (self._features(width, dim_t) * weight[..., self.hidden_dim:]
                ).sum(-1)  # (dim, width)
        pos = by_y[:, :, None] + by_x[:, None, :]
        if self.token_projection.bias is not None:
            pos = pos + self.token_projection.bias.float()[:, None, None]
        return pos[None]
