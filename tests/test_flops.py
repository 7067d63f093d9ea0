"""tools/get_flops.py prints the sizes configs/*metafile*.yml lists (which
test_config_sizes.py checks against the counter and the papers), for a
detector, a segmentor (with its per-stage table), a classifier (at
--shape) and EdgeFormer; a two-stage detector's count does not depend on
its weights."""
import re
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, cfg_path, listed_sizes


def get_flops(*args):
    return subprocess.run([sys.executable, 'tools/get_flops.py', *args],
                          cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize('config,options', [
    ('configs/ssdlite_edgenext_small_coco.py', []),
    ('configs/deeplabv3_edgenext_small_voc12aug_cvnets.py', ['--per-stage']),
    ('configs/edgenext_xx_small_in1k.py', ['--shape', '256', '256']),
    ('configs/ssdlite_edgeformer_s_coco.py', []),
])
@pytest.mark.slow
def test_prints_the_listed_size(config, options):
    params, madds, size = listed_sizes()[config]
    first, *table = get_flops(config, *options).splitlines()
    assert first == (f'{config.split("/")[-1]} at {size}x{size}: '
                     f'{params / 1e6:.2f}M params ({params:,}), '
                     f'{madds / 1e6:.2f}M MAdds')
    if '--per-stage' not in options:
        assert table == []
        return
    rows = [re.fullmatch(r'\| (\S[^|]*) \| ([\d.]+)M \|', line)
            for line in table[2:]]
    assert table[:2] == ['| part | MAdds |', '|---|---|']
    assert [row[1] for row in rows] == [
        f'backbone.stages.{i}' for i in range(4)] + ['everything else']
    assert all(float(row[2]) > 0 for row in rows)
    assert sum(float(row[2]) for row in rows) == pytest.approx(
        madds / 1e6, abs=0.03)


def record_results(module, name):
    """A list that receives what ``module.name(...)`` returns from now
    on."""
    results = []
    method = getattr(module, name)

    def recorded(*args, **kwargs):
        results.append(method(*args, **kwargs))
        return results[-1]

    setattr(module, name, recorded)
    return results


@pytest.mark.slow
def test_two_stage_count_takes_the_rpn_s_max_proposals():
    """At 64x64 the RPN has about 1000 candidates, of which its NMS keeps a
    number that depends on the weights; the count takes ``max_per_img`` of
    them whatever the weights, as mmdet 2.x counted 1000 proposals."""
    from mmedgenext.analysis import count_complexity
    from mmedgenext.apis import build_model, load_config
    counts = set()
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = build_model(load_config(
            cfg_path('examples/faster-rcnn_edgenext_small_fpn_1x_coco.py')))
        proposals = record_results(model.rpn_head, 'predict')
        counts.add(count_complexity(model, (3, 64, 64))['madds'])
        assert len(proposals[0][0]) == model.rpn_head.test_cfg.max_per_img
    assert len(counts) == 1


def test_plain_modules_and_openmmlab_models_are_called_as_they_are():
    """A plain module is counted on the image alone; an OpenMMLab model (an
    mmengine BaseModel) in mode 'tensor', once: a TypeError from inside its
    forward is its own error, not a sign of a plain module to call again."""
    from mmengine.model import BaseModel

    from mmedgenext.analysis import count_complexity

    class Plain(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 1, bias=False)

        def forward(self, x):
            return self.conv(x)

    class Broken(BaseModel):

        def __init__(self):
            super().__init__()
            self.modes = []

        def forward(self, inputs, data_samples=None, mode='tensor'):
            self.modes.append(mode)
            raise TypeError('a bug inside the model')

    assert count_complexity(Plain(), (3, 8, 8))['madds'] == 3 * 4 * 8 * 8
    broken = Broken()
    with pytest.raises(TypeError, match='^a bug inside the model$'):
        count_complexity(broken, (3, 8, 8))
    assert broken.modes == ['tensor']
