"""EdgeFormer backbone (ParC-Net: Zhang et al., "EdgeFormer: Improving
Light-weight ConvNets by Learning from Vision Transformers", ECCV 2022;
github.com/hkzhang-git/ParC-Net, built on Apple's ml-cvnets).

Module names are the authors' (``conv_1``, ``layer_1`` ... ``layer_5``,
``conv_1x1_exp``), so their released files load after a prefix change
(:mod:`mmedgenext.checkpoint.cvnets`).
"""

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule

from mmedgenext.registry import MODELS
from ..layers.cvnets_blocks import ConvLayer, InvertedResidual
from ..layers.gcc import OuterFrame
from .stage_control import FrozenStagesMixin, resolve_out_indices


def _arch(stem, channels, gcc_channels, gcc_blocks):
    return dict(stem=stem, channels=channels, gcc_channels=gcc_channels,
                gcc_blocks=gcc_blocks, meta_kernel_sizes=(32, 16, 8))


# The authors' scales (cvnets/models/classification/config/edgeformer.py):
# stem (channels, kernel), widths of layer_1..layer_5, GCC widths and depths
# of layer_3..layer_5. Meta kernels equal the feature sizes at 256x256.
ARCH_SETTINGS = {
    'xs': _arch((16, 3), (32, 64, 96, 128, 160), (96, 128, 160), (2, 3, 2)),
    's': _arch((16, 3), (32, 64, 96, 128, 160), (192, 256, 320), (2, 4, 3)),
    'h': _arch((48, 5), (96, 144, 216, 288, 432), (324, 432, 432),
               (3, 9, 3)),
}


@MODELS.register_module()
class EdgeFormer(FrozenStagesMixin, BaseModule):
    """EdgeFormer backbone emitting its five stages (strides 2 to 32).

    Args:
        arch (str): ``'xs'``, ``'s'`` (the released model) or ``'h'``.
        out_indices (Sequence[int]): Stages returned, 0..4 = ``layer_1``..
            ``layer_5`` (strides 2, 4, 8, 16, 32). Defaults to (4, ).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the
            stem and stages 0..k-1 (parameters and BN statistics).
        norm_eval (bool): Keep BatchNorm layers in eval mode in training.
        output_stride (int): 32, or 16 / 8 as the authors' DeepLabv3 builds
            it: the last (last two) MobileNetV2 downsamplings keep the
            resolution; only an output stride of 8 dilates (layer_5's
            depthwise conv); the GCC kernels are resized to the larger maps.
        with_cp (bool): Gradient checkpointing per block.
        final_conv (bool): Add the classifier's 1x1 expansion
            (``conv_1x1_exp``, 4x channels) after the last stage, for
            ImageNet checkpoints and classification.
        dropout (float): Dropout of the GCC blocks' FFNs (0.1, as trained).

    Inputs must be square (the authors' GCC kernels and positional
    embeddings are resized to the feature height in both directions).
    """

    def __init__(self, arch='s', out_indices=(4, ), frozen_stages=-1,
                 norm_eval=False, output_stride=32, with_cp=False,
                 final_conv=False, dropout=0.1, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in ARCH_SETTINGS:
            raise ValueError(f'Unknown EdgeFormer arch {arch!r}; valid '
                             f'names are {", ".join(ARCH_SETTINGS)}')
        if output_stride not in (8, 16, 32):
            raise ValueError(
                f'output_stride must be 32, 16 or 8, got {output_stride}')
        if not -1 <= frozen_stages <= 5:
            raise ValueError(
                f'frozen_stages must be in [-1, 5], got {frozen_stages}')
        self.arch = arch
        self.out_indices = resolve_out_indices(out_indices, 5)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.output_stride = output_stride
        self.with_cp = with_cp
        s = ARCH_SETTINGS[arch]
        self.channels = tuple(s['channels'])

        stem_channels, stem_kernel = s['stem']
        self.conv_1 = ConvLayer(3, stem_channels, stem_kernel, stride=2)
        c = self.channels
        self.layer_1 = nn.Sequential(InvertedResidual(stem_channels, c[0]))
        self.layer_2 = nn.Sequential(
            InvertedResidual(c[0], c[1], stride=2),
            *[InvertedResidual(c[1], c[1]) for _ in range(2)])
        # Output strides below 32: the authors' `dilate_l4`/`dilate_l5` drop
        # the stride of that stage's MV2, which takes the dilation reached
        # before it, so only layer_5 at output stride 8 is dilated.
        dilation = 1
        for i in range(3):
            keep = 2**(i + 3) > output_stride
            mv2 = InvertedResidual(c[i + 1], c[i + 2], stride=1 if keep else 2,
                                   dilation=dilation)
            dilation *= 2 if keep else 1
            frame = OuterFrame(c[i + 2], s['gcc_channels'][i],
                               s['gcc_blocks'][i], s['meta_kernel_sizes'][i],
                               2 * s['gcc_channels'][i], dropout=dropout)
            self.add_module(f'layer_{i + 3}', nn.Sequential(mv2, frame))
        if final_conv:
            self.conv_1x1_exp = ConvLayer(c[4], min(4 * c[4], 960), 1)
        self.final_conv = final_conv
        self._freeze_stages()

    def _check_input(self, x):
        # Also when traced (ONNX export, FLOP counting): sizes are fixed.
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f'EdgeFormer expects (N, 3, H, W) input, got '
                             f'shape {tuple(x.shape)}')
        if x.shape[2] != x.shape[3]:
            raise ValueError(
                f'EdgeFormer needs square inputs (its global circular '
                f'kernels follow the feature height), got '
                f'{x.shape[2]}x{x.shape[3]}; resize to a square, e.g. '
                f'Resize(scale=(320, 320), keep_ratio=False)')

    def _run(self, layer, x):
        for block in layer:
            if self.with_cp and x.requires_grad:
                x = cp.checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x

    def forward(self, x):
        self._check_input(x)
        x = self.conv_1(x)
        outs = []
        for i in range(5):
            x = self._run(getattr(self, f'layer_{i + 1}'), x)
            if i in self.out_indices:
                outs.append(self.conv_1x1_exp(x) if i == 4 and self.final_conv
                            else x)
        return tuple(outs)

    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        return [self.conv_1] + [
            getattr(self, f'layer_{i + 1}') for i in range(self.frozen_stages)
        ]
