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
The reference projects its positional encoding with a 1x1 conv over every
position; this plugin projects the y and x features apart and adds them
(the same function), which the analyzer does not see as a conv, so each
encoding is counted as that conv.

Two-stage detectors (an RPN feeding an RoI head) are counted as mmdet
2.x's get_flops counted them (``TwoStageDetector.forward_dummy``): the RoI
head on a fixed number of proposals, the RPN's ``max_per_img`` (1000 in
mmdet's configs), where NMS would keep a number that depends on the
weights.
"""
import copy
from contextlib import contextmanager

import torch
from mmengine.analysis import FlopAnalyzer
from mmengine.model import BaseModel

from mmedgenext.models.layers import LayerNorm2d
from mmedgenext.models.layers.positional_encoding import \
    FourierPositionalEncoding


class _TensorForward(torch.nn.Module):
    """The model's plain tensor forward (``mode='tensor'`` for an OpenMMLab
    model, an mmengine ``BaseModel``): backbone, neck and head, no pre- or
    post-processing. Any other module is called on the input alone."""

    def __init__(self, model, data_samples=None):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, x):
        if not isinstance(self.model, BaseModel):
            return self.model(x)
        return self.model(x, self.data_samples, mode='tensor')


@contextmanager
def _fixed_proposals(model, input_shape):
    """For a two-stage detector: the image metadata its RPN needs, and an
    RPN whose NMS keeps every candidate, so that exactly ``max_per_img``
    proposals reach the RoI head. Yields None for other models."""
    rpn = getattr(model, 'rpn_head', None)
    if rpn is None or getattr(model, 'roi_head', None) is None:
        yield None
        return
    from mmdet.structures import DetDataSample
    h, w = input_shape[1:]
    sample = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
        batch_input_shape=(h, w), scale_factor=(1., 1.)))
    test_cfg = rpn.test_cfg
    rpn.test_cfg = copy.deepcopy(test_cfg)
    rpn.test_cfg.nms.iou_threshold = 1.  # IoU > 1 never: nothing dropped
    try:
        yield [sample]
    finally:
        rpn.test_cfg = test_cfg


@contextmanager
def _projections_as_convs(model):
    """Yields a dict filled, as the model runs, with each positional
    encoding's MAdds as the reference's 1x1 conv over its (H, W) map."""
    madds = {}

    def record(name):
        def hook(module, args, output):
            conv = module.token_projection
            h, w = map(int, output.shape[-2:])
            madds[name] = h * w * conv.in_channels * conv.out_channels
        return hook

    handles = [m.register_forward_hook(record(name))
               for name, m in model.named_modules()
               if isinstance(m, FourierPositionalEncoding)]
    try:
        yield madds
    finally:
        for handle in handles:
            handle.remove()


def count_complexity(model, input_shape=(3, 256, 256)):
    """Return ``dict(params, madds, by_module)`` for a model in eval mode
    on one ``input_shape`` image."""
    model = model.eval()
    with _fixed_proposals(model, input_shape) as data_samples, \
            _projections_as_convs(model) as projections:
        analyzer = FlopAnalyzer(_TensorForward(model, data_samples),
                                torch.zeros(1, *input_shape))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        by_module = analyzer.by_module()
    for name, madds in projections.items():
        parts = f'model.{name}'.split('.')
        for i in range(len(parts) + 1):  # the module and its parents
            by_module['.'.join(parts[:i])] += madds
    uncounted = sum(by_module[f'model.{name}'] for name, m in
                    model.named_modules() if isinstance(m, LayerNorm2d)
                    and 'downsample_layers.' in name)
    return dict(params=sum(p.numel() for p in model.parameters()),
                madds=analyzer.total() + sum(projections.values()) -
                uncounted, by_module=by_module)
