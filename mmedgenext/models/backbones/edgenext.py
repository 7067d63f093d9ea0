"""EdgeNeXt backbone (Maaz et al., arXiv 2206.10589) for mmdet, mmseg and
mmpretrain.

Module names follow the authors' release files (``downsample_layers``,
``stages.i.j.dwconv``, ``xca``, ...), so their checkpoints load key for key;
the classification norm is ``norm3``.
"""
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule, initialize
from mmengine.model.weight_init import trunc_normal_
from torch.nn.modules.batchnorm import _BatchNorm

from mmedgenext.registry import MODELS
from ..layers import ConvEncoder, SDTAEncoder, build_norm, is_batch_norm
from ..layers.reparam import fold_preceding_bn
from .stage_control import FrozenStagesMixin, resolve_out_indices

# Shared by every published variant (reference repo, models/model.py); the
# LayerNorm/GELU family's norm and activation.
_COMMON = dict(
    kernel_sizes=(3, 5, 7, 9),
    d2_scales=(2, 2, 3, 4),
    global_blocks=(0, 1, 1, 1),
    use_pos_embd=(False, True, False, False),
    expan_ratio=4,
    layer_scale_init=1e-6,
    norm_cfg=dict(type='LN2d', eps=1e-6),
    act_cfg=dict(type='GELU'))
_BN_HS = dict(norm_cfg=dict(type='BN'), act_cfg=dict(type='HSwish'))


def _arch(depths, channels, num_heads, **family):
    return dict(_COMMON, depths=depths, channels=channels,
                num_heads=num_heads, **family)


ARCH_SETTINGS = {
    'xx_small': _arch((2, 2, 6, 2), (24, 48, 88, 168), 4),
    'x_small': _arch((3, 3, 9, 3), (32, 64, 100, 192), 4),
    'small': _arch((3, 3, 9, 3), (48, 96, 160, 304), 8),
    'base': _arch((3, 3, 9, 3), (80, 160, 288, 584), 8),
    'xx_small_bn_hs': _arch((2, 2, 6, 2), (24, 48, 88, 168), 4, **_BN_HS),
    'x_small_bn_hs': _arch((3, 3, 9, 3), (32, 64, 100, 192), 4, **_BN_HS),
    'small_bn_hs': _arch((3, 3, 9, 3), (48, 96, 160, 304), 8, **_BN_HS),
}

_REQUIRED_ARCH_KEYS = ('depths', 'channels', 'num_heads')


def resolve_arch(arch):
    """Return the full settings dict of a named or custom arch."""
    if isinstance(arch, str):
        if arch not in ARCH_SETTINGS:
            raise ValueError(
                f'Unknown EdgeNeXt arch {arch!r}; valid names are '
                f'{", ".join(ARCH_SETTINGS)}, or a dict with at least '
                f'{_REQUIRED_ARCH_KEYS}')
        arch = ARCH_SETTINGS[arch]
    elif not isinstance(arch, dict):
        raise ValueError(f'arch must be a name or a dict, got {arch!r}')
    elif 'norm_type' in arch:
        raise ValueError(
            "arch['norm_type'] is gone: give the norm and activation as "
            "norm_cfg and act_cfg (in arch or as EdgeNeXt arguments), e.g. "
            "norm_cfg=dict(type='BN'), act_cfg=dict(type='HSwish') for the "
            'BN/Hardswish family')
    missing = [k for k in _REQUIRED_ARCH_KEYS if k not in arch]
    unknown = set(arch) - set(_COMMON) - set(_REQUIRED_ARCH_KEYS)
    if missing or unknown:
        raise ValueError(
            f'Custom EdgeNeXt arch {arch} is missing {missing} or has '
            f'unknown keys {sorted(unknown)}; allowed keys: '
            f'{sorted({*_COMMON, *_REQUIRED_ARCH_KEYS})}')
    settings = {**_COMMON, **arch}
    if isinstance(settings['num_heads'], int):
        settings['num_heads'] = (settings['num_heads'], ) * 4
    for key in ('depths', 'channels', 'num_heads', 'kernel_sizes',
                'd2_scales', 'global_blocks', 'use_pos_embd'):
        if len(settings[key]) != 4:
            raise ValueError(f'arch[{key!r}] needs 4 entries (one per '
                             f'stage), got {settings[key]}')
    return settings


class DilatedPatchMerging(nn.Conv2d):
    """The 2x2 stride-2 downsampling conv turned into a stride-1 conv with
    taps ``dilation`` pixels apart, padded on the bottom/right so output
    pixel 2i keeps the inputs the strided conv's output i saw."""

    def __init__(self, in_channels, out_channels, dilation, bias=True):
        super().__init__(in_channels, out_channels, 2, dilation=dilation,
                         bias=bias)

    def forward(self, x):
        d = self.dilation[0]
        return super().forward(F.pad(x, (0, d, 0, d)))


@MODELS.register_module()
class EdgeNeXt(FrozenStagesMixin, BaseModule):
    """EdgeNeXt backbone emitting stride 4, 8, 16 and 32 features.

    Args:
        arch (str | dict): ``xx_small``, ``x_small``, ``small``, ``base``,
            ``xx_small_bn_hs``, ``x_small_bn_hs``, ``small_bn_hs``, or a dict
            with ``depths``, ``channels``, ``num_heads`` and optionally
            ``kernel_sizes``, ``d2_scales``, ``global_blocks``,
            ``use_pos_embd``, ``expan_ratio``, ``layer_scale_init``,
            ``norm_cfg``, ``act_cfg``.
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int]): Stages whose output is returned, each
            through its own norm layer. Defaults to (0, 1, 2, 3).
        frozen_stages (int): -1 freezes nothing, 0 the stem, k >= 1 the stem
            and stages 0..k-1 (parameters and norm statistics).
        norm_eval (bool): Keep BatchNorm layers in eval mode while training
            (no effect on the LayerNorm variants).
        output_stride (int): 32 (the published network), 16 or 8. Below 32
            the last one or two downsamplings keep the resolution and the
            later depthwise kernels are dilated to keep their field of view
            (DeepLab's atrous trick), with the same parameters, so ImageNet
            weights load unchanged.
        drop_path_rate (float): Stochastic depth, rising linearly over blocks.
        with_cp (bool): Gradient checkpointing per block (saves memory).
        gap_before_final_norm (bool): Return pooled, normalised vectors
            instead of maps, as the reference ``forward_features`` (with a
            BatchNorm the map is normalised, then pooled, as the reference's
            BN variants do).
        norm_cfg (dict, optional): Norm of the NCHW maps, in every block
            and between stages; defaults to the arch's:
            ``dict(type='LN2d', eps=1e-6)``, or ``dict(type='BN')`` for the
            ``*_bn_hs`` variants. A BatchNorm (``BN``, ``SyncBN``) also
            gives the reference's BN-family structure: convs without bias,
            the SDTA map normalised before its positional encoding, and the
            pooled features normalised before pooling.
        act_cfg (dict, optional): Activation of the blocks' MLPs; defaults
            to the arch's: ``dict(type='GELU')``, or ``dict(type='HSwish')``
            for the ``*_bn_hs`` variants.
        pretrained (str, optional): Deprecated spelling of
            ``init_cfg=dict(type='Pretrained', checkpoint=pretrained)``, as
            mmseg's backbones accept it (mmseg's ``EncoderDecoder`` passes
            its ``model.pretrained`` here).
        init_cfg (dict | list[dict], optional): e.g. ``dict(type='Pretrained',
            checkpoint='edgenext_small')``: a path, a URL or a model-zoo name;
            official, timm, mmpretrain and mmedgenext files are converted.
            Takes mmengine's ``PretrainedInit`` arguments (``prefix``,
            ``map_location``) plus ``checkpoint_key`` and
            ``trust_checkpoint``; in a list, the other init configs apply
            first and the checkpoint is loaded last, as mmengine does.

    Output sizes: a H x W input gives maps of
    ``floor(floor(H / 4) / 2**min(i, s))`` rows at stage i (likewise for W),
    where ``s = log2(output_stride / 4)``; any size from ``output_stride``
    pixels up works, multiple of 32 or not.
    """

    def __init__(self,
                 arch='small',
                 in_channels=3,
                 out_indices=(0, 1, 2, 3),
                 frozen_stages=-1,
                 norm_eval=False,
                 output_stride=32,
                 drop_path_rate=0.,
                 with_cp=False,
                 gap_before_final_norm=False,
                 norm_cfg=None,
                 act_cfg=None,
                 pretrained=None,
                 init_cfg=None):
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError(
                    'EdgeNeXt got both pretrained= and init_cfg; keep one '
                    '(with mmseg, set model.pretrained=None when the '
                    'backbone has an init_cfg)')
            warnings.warn('pretrained= is deprecated, use init_cfg=dict('
                          "type='Pretrained', checkpoint=...) instead",
                          DeprecationWarning)
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        self.arch = arch
        self.arch_settings = settings = resolve_arch(arch)
        self.norm_cfg = norm_cfg = norm_cfg or settings['norm_cfg']
        self.act_cfg = act_cfg = act_cfg or settings['act_cfg']
        self.batch_norm = is_batch_norm(norm_cfg)
        self.channels = tuple(settings['channels'])
        self.in_channels = in_channels
        self.out_indices = resolve_out_indices(out_indices, 4)
        if not -1 <= frozen_stages <= 4:
            raise ValueError(
                f'frozen_stages must be in [-1, 4], got {frozen_stages}')
        self.frozen_stages = frozen_stages
        if output_stride not in (8, 16, 32):
            raise ValueError(
                f'output_stride must be 32, 16 or 8, got {output_stride}')
        self.output_stride = output_stride
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.gap_before_final_norm = gap_before_final_norm

        conv_bias = not self.batch_norm  # as the reference
        channels = self.channels
        self.downsample_layers = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, channels[0], 4, stride=4,
                          bias=conv_bias),
                build_norm(norm_cfg, channels[0]))
        ])
        # Stages past the output stride keep the resolution; `dilation` is
        # how many input pixels apart a kernel tap now lies.
        strided_stages = {32: 3, 16: 2, 8: 1}[output_stride]
        dilations = [1]
        for i in range(1, 4):
            if i <= strided_stages:
                conv = nn.Conv2d(channels[i - 1], channels[i], 2, stride=2,
                                 bias=conv_bias)
                dilations.append(dilations[-1])
            else:
                conv = DilatedPatchMerging(channels[i - 1], channels[i],
                                           dilations[-1], bias=conv_bias)
                dilations.append(dilations[-1] * 2)
            self.downsample_layers.append(
                nn.Sequential(build_norm(norm_cfg, channels[i - 1]), conv))

        drop_rates = torch.linspace(0, drop_path_rate,
                                    sum(settings['depths'])).tolist()
        self.stages = nn.ModuleList()
        for i, depth in enumerate(settings['depths']):
            blocks = []
            for j in range(depth):
                common = dict(
                    dim=channels[i],
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    expan_ratio=settings['expan_ratio'],
                    layer_scale_init=settings['layer_scale_init'],
                    drop_path=drop_rates.pop(0),
                    dilation=dilations[i])
                if j >= depth - settings['global_blocks'][i]:
                    blocks.append(
                        SDTAEncoder(
                            scales=settings['d2_scales'][i],
                            num_heads=settings['num_heads'][i],
                            use_pos_emb=settings['use_pos_embd'][i],
                            **common))
                else:
                    blocks.append(
                        ConvEncoder(
                            kernel_size=settings['kernel_sizes'][i], **common))
            self.stages.append(nn.Sequential(*blocks))

        for i in self.out_indices:
            self.add_module(f'norm{i}', build_norm(norm_cfg, channels[i]))

        self.apply(self._init_module)
        self._freeze_stages()

    @staticmethod
    def _init_module(m):
        """The reference initialisation (truncated normal, std 0.02)."""
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            trunc_normal_(m.weight, std=.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def init_weights(self):
        """mmengine's init, with ``Pretrained`` entries loaded by
        :func:`load_pretrained`, which converts every EdgeNeXt layout."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [
            self.init_cfg] if self.init_cfg else []
        pretrained = [c for c in cfgs if c.get('type') == 'Pretrained']
        if len(pretrained) > 1:
            raise ValueError(f'init_cfg has {len(pretrained)} Pretrained '
                             'entries; give one checkpoint')
        if not pretrained:
            return super().init_weights()
        others = [c for c in cfgs if c.get('type') != 'Pretrained']
        if others:
            initialize(self, others)
        from mmedgenext.checkpoint import load_pretrained
        load_pretrained(self, **{k: v for k, v in pretrained[0].items()
                                 if k != 'type'})
        self._is_init = True

    def _check_input(self, x):
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export():
            return
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'EdgeNeXt expects (N, {self.in_channels}, H, W) input '
                f'(in_channels={self.in_channels}), got shape '
                f'{tuple(x.shape)}; convert the images or set in_channels')
        if min(x.shape[2:]) < self.output_stride:
            raise ValueError(
                f'EdgeNeXt with output_stride={self.output_stride} needs '
                f'inputs of at least {self.output_stride}x'
                f'{self.output_stride}, got {tuple(x.shape[2:])}')

    def _stage_forward(self, i, x):
        if self.with_cp and x.requires_grad:
            for block in self.stages[i]:
                x = cp.checkpoint(block, x, use_reentrant=False)
            return x
        return self.stages[i](x)

    def _output(self, i, x):
        norm = getattr(self, f'norm{i}')
        if not self.gap_before_final_norm:
            return norm(x).contiguous()
        # As the reference: the BN family pools the normalised map, the LN
        # family normalises the pooled vector (a 1x1 map here).
        if self.batch_norm:
            return norm(x).mean((2, 3))
        return norm(x.mean((2, 3), keepdim=True)).flatten(1)

    def forward(self, x):
        self._check_input(x)
        # Channels-last storage makes the block's NCHW <-> NHWC permutes free.
        x = x.contiguous(memory_format=torch.channels_last)
        outs = []
        for i in range(4):
            x = self.downsample_layers[i](x)
            x = self._stage_forward(i, x)
            if i in self.out_indices:
                outs.append(self._output(i, x))
        return tuple(outs)

    def switch_to_deploy(self):
        """Inference form for export and int8 (the blocks' Linears as 1x1
        convs, layer scales and BatchNorms folded; see
        ``ConvEncoder.switch_to_deploy``): the same function in float, no
        layout transposes between the matrix products in an exported graph;
        in eager CPU inference the 1x1 convs run as GEMMs on the
        channels-last maps, activations in place. Irreversible."""
        for stage in self.stages:
            for block in stage:
                block.switch_to_deploy()
        for layer in self.downsample_layers[1:]:
            # DilatedPatchMerging pads after the norm: not foldable.
            if isinstance(layer[0], _BatchNorm) and type(
                    layer[1]) is nn.Conv2d:
                layer[1] = fold_preceding_bn(layer[0], layer[1])
                layer[0] = nn.Identity()

    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        modules = [self.downsample_layers[0]]
        for i in range(self.frozen_stages):
            modules += [self.downsample_layers[i], self.stages[i]]
            if i in self.out_indices:
                modules.append(getattr(self, f'norm{i}'))
        return modules
