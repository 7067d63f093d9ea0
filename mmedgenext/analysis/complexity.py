"""Parameters and multiply-adds of any config's model, counted the way the
EdgeNeXt paper counts them.

The paper's MAdds come from fvcore's FlopCountAnalysis on the reference
code: one multiply-add of a conv, linear or matmul counts once; norms count
per element; element-wise ops do not count. The reference writes its
channels-first LayerNorms (stem and downsampling) out of mean/sub/pow/div
ops, which fvcore does not count, whereas this plugin calls
``F.layer_norm``; those modules (the :class:`LayerNorm2d` of the stem and
the downsampling layers) are left out so the totals are comparable (they
are about 0.5% of XXS). Every other norm counts, as in the reference.
"""
import torch
from mmengine.analysis import FlopAnalyzer

from mmedgenext.models.layers import LayerNorm2d


class _TensorForward(torch.nn.Module):
    """The model's plain tensor forward (``mode='tensor'`` for OpenMMLab
    models): backbone, neck and head, no pre- or post-processing."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        try:
            return self.model(x, mode='tensor')
        except TypeError:  # a bare nn.Module
            return self.model(x)


def count_complexity(model, input_shape=(3, 256, 256)):
    """Return ``dict(params, madds, by_module)`` for a model in eval mode
    on one ``input_shape`` image."""
    model = model.eval()
    analyzer = FlopAnalyzer(_TensorForward(model),
                            torch.zeros(1, *input_shape))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    by_module = analyzer.by_module()
    uncounted = sum(by_module[f'model.{name}'] for name, m in
                    model.named_modules() if isinstance(m, LayerNorm2d)
                    and 'downsample_layers.' in name)
    return dict(params=sum(p.numel() for p in model.parameters()),
                madds=analyzer.total() - uncounted, by_module=by_module)
