"""tools/get_flops.py prints the sizes configs/*metafile*.yml lists (which
test_config_sizes.py checks against the counter and the papers), for a
detector, a segmentor, a classifier and EdgeFormer, and its per-stage table
adds up to the total; a two-stage detector's count does not depend on its
weights."""
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


@pytest.mark.parametrize('config', [
    'configs/ssdlite_edgenext_small_coco.py',
    'configs/deeplabv3_edgenext_small_voc12aug_cvnets.py',
    'configs/edgenext_xx_small_in1k.py',
    'configs/ssdlite_edgeformer_s_coco.py',
])
@pytest.mark.slow
def test_prints_the_listed_size(config):
    params, madds, size = listed_sizes()[config]
    assert get_flops(config) == (
        f'{config.split("/")[-1]} at {size}x{size}: '
        f'{params / 1e6:.2f}M params ({params:,}), '
        f'{madds / 1e6:.2f}M MAdds\n')


@pytest.mark.slow
def test_shape_and_per_stage_rows_add_up():
    out = get_flops('configs/deeplabv3_edgenext_xx_small_voc12aug.py',
                    '--shape', '128', '--per-stage')
    total = float(re.search(r'at 128x128: .*, ([\d.]+)M MAdds', out)[1])
    rows = re.findall(r'^\| (\S[^|]*) \| ([\d.]+)M \|$', out, re.M)
    assert [name for name, _ in rows] == [
        f'backbone.stages.{i}' for i in range(4)] + ['everything else']
    assert sum(float(v) for _, v in rows) == pytest.approx(total, abs=0.03)
    assert all(float(v) > 0 for _, v in rows)


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
