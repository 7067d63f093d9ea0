"""The EdgeNeXt backbone beside the models it is timed against, each as a
callable giving the same kind of output:

- ``'pooled'``: the classifier's pooled, normalised features;
- ``'maps'``: four maps at strides 4-32, each through a norm as a dense
  head consumes them (EdgeFormer: its strides 16 and 32, as its SSDLite
  takes them).

Peers of an EdgeNeXt variant: timm's and mmpretrain's EdgeNeXt (the same
network), and torchvision's MobileNetV2, the classic light backbone, as a
reference point. ``mmedgenext`` is our backbone as trained, in eval mode;
``deploy`` the same weights after ``switch_to_deploy()``, the inference form
ONNX export also uses; ``deploy convs`` that form with its 1x1 convs where
eager CPU inference would run GEMMs (the baseline that path must beat).
"""
import torch.nn as nn

MODES = ('pooled', 'maps')
# Our variant names -> mmpretrain's; timm names them as we do.
MMPRETRAIN_ARCH = {'xx_small': 'xxsmall', 'x_small': 'xsmall',
                   'small': 'small', 'base': 'base'}
PEERS = ('timm', 'mmpretrain', 'mobilenet_v2')
SAME_NETWORK = ('timm', 'mmpretrain')  # the ratio's reference
# Ends of MobileNetV2's stride-4, 8, 16 and 32 stages in torchvision's
# ``features`` (mmdet's MobileNetV2 out_indices=(1, 2, 4, 7)).
_MOBILENET_V2_MAPS = (3, 6, 13, 18)


class _TimmMaps(nn.Module):
    """timm's EdgeNeXt intermediates, which carry no norm, each through the
    LayerNorm2d our backbone ends its maps with."""

    def __init__(self, model):
        super().__init__()
        from timm.layers import LayerNorm2d
        self.model = model
        self.norms = nn.ModuleList(LayerNorm2d(info['num_chs'], eps=1e-6)
                                   for info in model.feature_info)

    def forward(self, x):
        feats = self.model.forward_intermediates(x, intermediates_only=True)
        return [norm(f) for norm, f in zip(self.norms, feats)]


class _TimmPooled(nn.Module):

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.forward_head(self.model.forward_features(x),
                                       pre_logits=True)


class _MobileNetV2(nn.Module):
    """torchvision's MobileNetV2: pooled features or its four maps."""

    def __init__(self, mode):
        super().__init__()
        from torchvision.models import mobilenet_v2
        self.features = mobilenet_v2().features
        self.mode = mode

    def forward(self, x):
        if self.mode == 'pooled':
            return self.features(x).mean((2, 3))
        maps = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in _MOBILENET_V2_MAPS:
                maps.append(x)
        return maps


def backbone_and_peers(arch, mode, peers=PEERS):
    """Modules by name, in eval mode: ``mmedgenext``, ``deploy`` and
    ``deploy convs`` (EdgeNeXt ``arch``), then each of ``peers``."""
    import timm
    from mmpretrain.models import EdgeNeXt as MMPretrainEdgeNeXt

    from mmedgenext.deploy import switch_to_deploy
    from mmedgenext.models import EdgeNeXt
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, got '
                         f'{mode!r}')
    if set(peers) & set(SAME_NETWORK) and arch not in MMPRETRAIN_ARCH:
        raise ValueError(f'timm and mmpretrain have no EdgeNeXt {arch!r} '
                         f'(they have {", ".join(MMPRETRAIN_ARCH)})')
    pooled = mode == 'pooled'
    ours = (EdgeNeXt(arch, out_indices=(3, ), gap_before_final_norm=True)
            if pooled else EdgeNeXt(arch))
    deploy = switch_to_deploy(ours)
    models = {'mmedgenext': ours, 'deploy': deploy,
              'deploy convs': _ConvsOnly(deploy)}
    for peer in peers:
        if peer == 'timm':
            model = timm.create_model(f'edgenext_{arch}')
            models[peer] = _TimmPooled(model) if pooled else _TimmMaps(model)
        elif peer == 'mmpretrain':
            models[peer] = MMPretrainEdgeNeXt(
                MMPRETRAIN_ARCH[arch], **({} if pooled else dict(
                    out_indices=(0, 1, 2, 3), gap_before_final_norm=False)))
        elif peer == 'mobilenet_v2':
            models[peer] = _MobileNetV2(mode)
        else:
            raise ValueError(f'peer must be one of {", ".join(PEERS)}, got '
                             f'{peer!r}')
    for model in models.values():
        model.eval()  # some train() overrides return None
    return models


class _ConvsOnly(nn.Module):
    """The inference form run with its 1x1 convs (``convs_only``)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        from mmedgenext.models.layers.cpu_gemm import convs_only
        with convs_only():
            return self.model(x)


class _EdgeFormerPooled(nn.Module):

    def __init__(self):
        super().__init__()
        from mmedgenext.models import EdgeFormer
        self.model = EdgeFormer('s', final_conv=True)

    def forward(self, x):
        return self.model(x)[0].mean((2, 3))


def edgeformer_and_edgenext(archs, mode):
    """Modules by name, in eval mode: ``EdgeFormer-S`` (ParC-Net), then
    ``EdgeNeXt-<arch>`` for each of ``archs``."""
    from mmedgenext.models import EdgeFormer, EdgeNeXt
    if mode not in MODES:
        raise ValueError(f'mode must be one of {", ".join(MODES)}, got '
                         f'{mode!r}')
    if mode == 'pooled':
        models = {'EdgeFormer-S': _EdgeFormerPooled()}
        models.update({f'EdgeNeXt-{a}': EdgeNeXt(
            a, out_indices=(3, ), gap_before_final_norm=True) for a in archs})
    else:
        models = {'EdgeFormer-S': EdgeFormer('s', out_indices=(3, 4))}
        models.update({f'EdgeNeXt-{a}': EdgeNeXt(a) for a in archs})
    for model in models.values():
        model.eval()  # some train() overrides return None
    return models


def parameters_m(model):
    """Parameters in millions."""
    return sum(p.numel() for p in model.parameters()) / 1e6
