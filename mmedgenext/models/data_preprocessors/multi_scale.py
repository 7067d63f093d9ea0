"""The reference recipe's multi-scale training, as a data preprocessor."""
import random

import torch.nn.functional as F
from mmpretrain.models import ClsDataPreprocessor

from mmedgenext.registry import MODELS


@MODELS.register_module()
class MultiScaleClsDataPreprocessor(ClsDataPreprocessor):
    """mmpretrain's ``ClsDataPreprocessor`` that trains each batch at a
    random square size drawn from ``scales``.

    The authors train EdgeNeXt with ml-cvnets' multi-scale sampler
    (``--multi_scale_sampler``): per batch, a random size from five between
    160 and 320, rounded to multiples of 32, and their 256 input size, that
    is 160, 192, 256, 288 or 320. Here the
    pipeline crops at the largest size and each normalised training batch
    is resized down to the drawn size (antialiased bilinear), so no image is
    upsampled. Unlike the sampler, the batch size stays fixed: the small
    sizes just run faster. Evaluation is untouched. ``random`` is seeded by
    the Runner's ``randomness`` setting, so the sizes are reproducible.

    Args:
        scales (Sequence[int]): Square training sizes to draw from.
        **kwargs: ``ClsDataPreprocessor`` arguments.
    """

    def __init__(self, scales=(160, 192, 256, 288, 320), **kwargs):
        super().__init__(**kwargs)
        if not scales or any(s < 32 for s in scales):
            raise ValueError(f'scales must be sizes >= 32, got {scales}')
        self.scales = tuple(scales)

    def forward(self, data, training=False):
        data = super().forward(data, training)
        if training:
            size = random.choice(self.scales)
            if data['inputs'].shape[-2:] != (size, size):
                data['inputs'] = F.interpolate(
                    data['inputs'], size=(size, size), mode='bilinear',
                    align_corners=False, antialias=True)
        return data
