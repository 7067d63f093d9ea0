"""Fourier positional encoding of the stage-2 SDTA block."""
import math

import torch
import torch.nn as nn


class FourierPositionalEncoding(nn.Module):
    """Sine/cosine features of normalised (y, x) coordinates, projected to
    ``dim`` channels by a 1x1 conv (DETR-style, as in XCiT and EdgeNeXt).

    The features depend only on the map size, so they are computed once for a
    batch of one and broadcast over the batch.
    """

    def __init__(self, dim, hidden_dim=32, temperature=10000.):
        super().__init__()
        self.token_projection = nn.Conv2d(hidden_dim * 2, dim, kernel_size=1)
        self.hidden_dim = hidden_dim
        self.temperature = temperature

    def forward(self, height, width):
        """Return a (1, dim, height, width) encoding."""
        weight = self.token_projection.weight
        eps, scale = 1e-6, 2 * math.pi
        y_embed = torch.arange(
            1, height + 1, dtype=torch.float32, device=weight.device)
        x_embed = torch.arange(
            1, width + 1, dtype=torch.float32, device=weight.device)
        y_embed = y_embed / (y_embed[-1:] + eps) * scale
        x_embed = x_embed / (x_embed[-1:] + eps) * scale

        dim_t = torch.arange(
            self.hidden_dim, dtype=torch.float32, device=weight.device)
        dim_t = self.temperature**(2 * torch.div(
            dim_t, 2, rounding_mode='floor') / self.hidden_dim)

        def sin_cos(pos):  # (L,) -> (L, hidden_dim), interleaved sin/cos
            pos = pos[:, None] / dim_t
            return torch.stack((pos[:, 0::2].sin(), pos[:, 1::2].cos()),
                               dim=2).flatten(1)

        pos_y = sin_cos(y_embed)[:, None, :].expand(height, width, -1)
        pos_x = sin_cos(x_embed)[None, :, :].expand(height, width, -1)
        pos = torch.cat((pos_y, pos_x), dim=2).permute(2, 0, 1)[None]
        return self.token_projection(pos.to(weight.dtype))
